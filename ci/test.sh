#!/usr/bin/env bash
# The whole test suite, as README.md gives it and .ci/run runs it:
#   1. the riscv64 proof: Pillow cross-built here, then doctor, a Pillow build through a compile
#      helper here (distcc), an offline deploy with the cross-built Pillow and an erase run natively
#      in the emulated riscv64 userland (created and cached on first use; the emulated benchmark
#      is a documented command instead: bash ci/riscv64/check.sh). RVFORGE_SKIP_RISCV64=1 skips it.
#   2. ruff (lint, import order) over the repo and mypy --strict over rvforge (pyproject.toml);
#   3. pytest over tests/ (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh --dev
status=0
if [ "${RVFORGE_SKIP_RISCV64:-0}" != 1 ] && [ "$(uname -m)" = x86_64 ]; then
  bash ci/riscv64/check.sh --skip-bench || status=$?
fi
.venv/bin/python -m ruff check . || status=$?
.venv/bin/python -m mypy || status=$?
.venv/bin/python -m pytest "$@" || status=$?
exit "$status"
