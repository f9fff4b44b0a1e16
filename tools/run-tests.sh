#!/usr/bin/env bash
# Set up and run the whole test suite: system packages (PulseAudio, PipeWire and the rest:
# the device tests start private sound servers of their own, on a clean HOME), .venv, the
# import contracts (the engine must not import Qt), then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --test
export QT_QPA_PLATFORM=offscreen
.venv/bin/lint-imports
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "run-tests: pytest collected no tests; that is a failure" >&2
    exit 1
fi
exit "$status"
