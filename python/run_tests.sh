#!/usr/bin/env bash
# python/run_tests.sh: builds and installs the `vcp` Python module into a throwaway virtual environment (offline:
# Debian's setuptools, pybind11-dev and numpy, seen through --system-site-packages) and runs pytest on python/tests.
# Bounded: the install and the tests each run under a timeout (the whole stays under 5 minutes).
#
#   python/run_tests.sh               builds libvcp itself (a private Release CMake build, no CUDA), or reuses the
#   VCP_BUILD_DIR=build ...           CMake build directory named here (only its `vcp` target is built)
#   VCP_CLI=build/bin/vcp ...         the CLI the root-comparison test runs (default: build/bin/vcp when present)
#   PYTHON=/usr/bin/python3 ...       the interpreter (Debian's by default, not a pyenv shim)
# Exit status: pytest's (0 when every test passed).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-/usr/bin/python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/vcp-python-tests.XXXXXX")"
trap 'rm -rf "$work"' EXIT

"$python" -m venv --system-site-packages "$work/venv"
# --no-build-isolation: build with the installed setuptools instead of fetching one from PyPI (not reachable);
# --no-index: never try the network for numpy, which the system site-packages provide.
timeout 230 "$work/venv/bin/python" -m pip install --quiet --no-build-isolation --no-index "$here"
cd "$work"  # so that `import vcp` finds the installed module, not anything in the source tree
timeout 60 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$here/tests"
