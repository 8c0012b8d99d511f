#!/usr/bin/env bash
# Run a command as riscv64 code inside the cached Debian riscv64 userland.
#
# usage: run.sh [--rootfs DIR] [--bind HOST[:GUEST]]... [--cwd DIR] [--] COMMAND [ARG...]
#
# The checkout is bind-mounted at /checkout (its tests/data holds the reference data the
# guest steps use). The environment is clean: PATH, HOME, LANG, the host CA bundle and a
# pip timeout, nothing else from the host.
set -euo pipefail
# shellcheck source=ci/riscv64/lib.sh
. "$(dirname "$0")/lib.sh"

usage() { sed -n '4p' "$0" | sed 's/^# //' >&2; exit 2; }

root="" cwd="" binds=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rootfs) [ $# -ge 2 ] || usage; root="$2"; shift 2 ;;
        --bind) [ $# -ge 2 ] || usage; binds+=(-b "$2"); shift 2 ;;
        --cwd) [ $# -ge 2 ] || usage; cwd="$2"; shift 2 ;;
        -h|--help) usage ;;
        --) shift; break ;;
        -*) echo "error: unknown option '$1'" >&2; usage ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "error: no command given" >&2; usage; }
root="${root:-$(rv_default_rootfs)}"
[ -d "$root" ] || rv_die "no riscv64 userland at $root; fix: ci/riscv64/create-rootfs.sh${root:+ --rootfs $root}"

checkout="$(cd "$RV_DIR/../.." && pwd)"
binds+=(-b "$checkout:/checkout")
[ -z "$cwd" ] || binds+=(-w "$cwd")
rv_guest "$root" "${binds[@]}" -- "$@"
