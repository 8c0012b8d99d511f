#!/usr/bin/env bash
# The riscv64 check as one command: the same as `invoke riscv64-check`.
#
# usage: check.sh [--rootfs DIR] [--skip-build] [--skip-bench] [--native-build]
#
# Creates the cached riscv64 userland when it is missing (about 15 minutes), cross-builds Pillow
# for it here, then runs doctor, a Pillow build through distcc, a deploy with the cross-built
# Pillow and an erase inside it as riscv64 code.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
py="$repo/.venv/bin/python"
[ -x "$py" ] || { echo "error: $py is missing; fix: bash ci/setup.sh --dev" >&2; exit 1; }

args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rootfs) [ $# -ge 2 ] || { echo "error: --rootfs needs a directory" >&2; exit 2; }
                  args+=(--rootfs "$2"); shift 2 ;;
        --skip-build|--skip-bench|--native-build) args+=("$1"); shift ;;
        -h|--help) sed -n '4p' "$0" | sed 's/^# //'; exit 0 ;;
        *) echo "error: unknown argument '$1'" >&2; sed -n '4p' "$0" | sed 's/^# //' >&2; exit 2 ;;
    esac
done
cd "$repo"
exec nice -n 10 "$py" -m invoke riscv64-check "${args[@]}"
