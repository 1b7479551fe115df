"""Shared fixtures: the repository's known-answer vectors (tests/vectors/spec_v2.json)."""
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def spec():
    return json.loads((REPO / "tests" / "vectors" / "spec_v2.json").read_text())
