#!/usr/bin/env bash
# Set up and run the main job: the CallCoach widget playing the bundled demo call.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
exec .venv/bin/callcoach demo "$@"
