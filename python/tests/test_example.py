"""python/examples/quickstart.py runs from outside the source tree against the installed module and passes."""
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "quickstart.py"


def test_quickstart_runs_outside_the_tree(tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLE), str(tmp_path / "work")], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "checked" in done.stdout and "epoch 0: pass (pass)" in done.stdout
