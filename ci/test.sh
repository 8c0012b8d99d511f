#!/usr/bin/env bash
# The whole test suite, as README.md gives it and .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh --dev
exec .venv/bin/python -m pytest "$@"
