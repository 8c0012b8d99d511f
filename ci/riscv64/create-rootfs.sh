#!/usr/bin/env bash
# Create (or find) the cached Debian riscv64 userland used to run the tool as riscv64 code.
#
# usage: create-rootfs.sh [--rootfs DIR] [--force] [--print-key | --print-path]
#
# The userland is built in a temporary directory beside its final place and renamed
# into place only after gcc has been seen compiling and running a program inside, so
# an interrupted run never leaves something that looks ready. No binfmt_misc handler
# is registered: proot starts every guest program through qemu-riscv64-static.
set -euo pipefail
# shellcheck source=ci/riscv64/lib.sh
. "$(dirname "$0")/lib.sh"

usage() { sed -n '4p' "$0" | sed 's/^# //' >&2; exit 2; }

root="" force=0 print=""
while [ $# -gt 0 ]; do
    case "$1" in
        --rootfs) [ $# -ge 2 ] || usage; root="$2"; shift 2 ;;
        --force) force=1; shift ;;
        --print-key) print=key; shift ;;
        --print-path) print=path; shift ;;
        -h|--help) usage ;;
        *) echo "error: unknown argument '$1'" >&2; usage ;;
    esac
done
root="${root:-$(rv_default_rootfs)}"
case "$print" in
    key) rv_cache_key; exit 0 ;;
    path) echo "$root"; exit 0 ;;
esac

if [ -d "$root" ] && [ "$force" = 0 ]; then
    echo "riscv64 userland ready: $root"
    exit 0
fi
rv_require_host_tools
[ "$(id -u)" = 0 ] || rv_die "debootstrap needs root to create $root; fix: run this script as root"

parent="$(dirname "$root")" name="$(basename "$root")"
mkdir -p "$parent"
# Leftovers of creations that were killed: their owner process is gone.
for stale in "$parent/.$name.tmp."*; do
    [ -e "$stale" ] || continue
    kill -0 "${stale##*.}" 2>/dev/null || rm -rf "$stale"
done
tmp="$parent/.$name.tmp.$$"
cleanup() { [ -z "${tmp:-}" ] || rm -rf "$tmp"; }
trap cleanup EXIT

guest() { rv_guest "$tmp" -- "$@"; }

stage1() {
    debootstrap --arch=riscv64 --foreign --variant=minbase \
        "$RV_SUITE" "$tmp" "$RV_MIRROR" /usr/share/debootstrap/scripts/sid || return
    # Stage 1 may leave proc as a symlink to the host's /proc, which turns proot's
    # -b /proc into a loop; the guest needs a plain directory to bind onto.
    if [ -L "$tmp/proc" ]; then rm "$tmp/proc" && mkdir "$tmp/proc"; fi
}

configure_apt() {
    echo "deb $RV_MIRROR $RV_SUITE main" > "$tmp/etc/apt/sources.list"
    # Valid-Until is not checked: a mirror snapshot may lag the clock, and the
    # signatures still are.
    cat > "$tmp/etc/apt/apt.conf.d/90rvforge" <<'CONF'
APT::Sandbox::User "root";
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Retries "3";
Acquire::Check-Valid-Until "false";
Dpkg::Use-Pty "false";
CONF
    # No init runs in the guest: services must never be started by package scripts.
    printf '#!/bin/sh\nexit 101\n' > "$tmp/usr/sbin/policy-rc.d"
    chmod 755 "$tmp/usr/sbin/policy-rc.d"
}

install_packages() {
    guest apt-get update -q || return
    local batch
    while read -r batch; do
        # shellcheck disable=SC2086  # a batch is a space-separated package list
        rv_step "apt-get install $batch" guest apt-get install -y -q $batch </dev/null || return
    done < <(rv_package_batches)
    guest apt-get clean
}

# dpkg looking fine proves nothing: gcc fails silently when statx leaks the host's view.
verify_toolchain() {
    cp "$RV_DIR/toolchain-probe.c" "$tmp/tmp/toolchain-probe.c" || return
    guest /bin/sh -c 'set -e
        gcc -O1 -o /tmp/toolchain-probe /tmp/toolchain-probe.c
        /tmp/toolchain-probe
        stat -c "stat / ok: %F" /
        python3 -c "import platform; m = platform.machine(); assert m == \"riscv64\", m; print(\"python on\", m)"
        rm -f /tmp/toolchain-probe /tmp/toolchain-probe.c'
}

record() {
    { echo "key=$(rv_cache_key)"; echo "suite=$RV_SUITE"; echo "mirror=$RV_MIRROR"
      echo "created=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; rv_package_batches | sed 's/^/packages=/'; } \
        > "$tmp/etc/rvforge-rootfs"
}

rv_step "debootstrap stage 1 ($RV_SUITE riscv64)" stage1
rv_step "debootstrap stage 2 (under qemu)" guest /debootstrap/debootstrap --second-stage
configure_apt
rv_step "guest packages" install_packages
rv_step "guest toolchain check" verify_toolchain
record
[ "$force" = 0 ] || rm -rf "$root"
mv "$tmp" "$root"
tmp=""
echo "riscv64 userland ready: $root"
