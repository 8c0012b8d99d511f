# Shared by the ci/riscv64 scripts (sourced, never run): where the riscv64 userland
# lives, how it is keyed, and how a command runs inside it under qemu through proot.
# shellcheck shell=bash

RV_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RV_SUITE="${RVFORGE_RISCV64_SUITE:-forky}"
# The Debian mirror: RVFORGE_RISCV64_MIRROR, else the one this host's apt uses for its main
# archive (deb822 .sources or sources.list), else debootstrap's own default.
rv_host_mirror() {
    local uri
    uri="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*//p' | tr ' ' '\n' \
        | grep -E '/debian/?$' | head -n1)"
    [ -n "$uri" ] || uri="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\).*/\2/p' | grep -E '/debian/?$' | head -n1)"
    [ -n "$uri" ] || uri="$(sed -n 's/^DEF_MIRROR="\(.*\)"$/\1/p' /usr/sbin/debootstrap 2>/dev/null | head -n1)"
    [ -n "$uri" ] || { echo "error: no Debian mirror known: set RVFORGE_RISCV64_MIRROR" >&2; return 1; }
    echo "${uri%/}"
}
RV_MIRROR="${RVFORGE_RISCV64_MIRROR:-$(rv_host_mirror)}"
RV_PACKAGES_FILE="${RVFORGE_RISCV64_PACKAGES:-$RV_DIR/packages.txt}"
RV_GUEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RV_HOST_CA=/etc/ssl/certs/ca-certificates.crt

rv_die() { echo "error: $*" >&2; exit 1; }

rv_cache_root() {
    local base="${RVFORGE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/rvforge}"
    echo "$base/riscv64"
}

# Package batches: packages.txt without comments and blank lines, one batch per line.
rv_package_batches() {
    [ -r "$RV_PACKAGES_FILE" ] || rv_die "package list $RV_PACKAGES_FILE is missing"
    sed -e 's/#.*//' -e 's/[[:space:]]\+/ /g' -e 's/^ //' -e 's/ $//' "$RV_PACKAGES_FILE" | grep -v '^$'
}

# Cache key: suite plus a hash of the mirror, the package batches and this recipe's
# version, so changing any of them yields a fresh userland instead of a stale one.
RV_RECIPE_VERSION=1
rv_cache_key() {
    local digest
    digest="$( { echo "recipe=$RV_RECIPE_VERSION"; echo "mirror=$RV_MIRROR"; rv_package_batches; } \
        | sha256sum | cut -c1-12)" || exit 1
    echo "debian-$RV_SUITE-$digest"
}

rv_default_rootfs() { echo "$(rv_cache_root)/$(rv_cache_key)"; }

# The seccomp launcher, compiled once per source version into the cache.
rv_launcher() {
    local src="$RV_DIR/statx-enosys.c" digest out
    digest="$(sha256sum "$src" | cut -c1-12)"
    out="$(rv_cache_root)/bin/statx-enosys-$digest"
    if [ ! -x "$out" ]; then
        command -v gcc >/dev/null || rv_die "gcc is missing; fix: apt-get install gcc libseccomp-dev"
        mkdir -p "$(dirname "$out")"
        gcc -O2 -Wall -o "$out.tmp.$$" "$src" -lseccomp >&2 \
            || rv_die "cannot build the seccomp launcher; fix: apt-get install libseccomp-dev"
        mv -f "$out.tmp.$$" "$out"
    fi
    echo "$out"
}

rv_require_host_tools() {
    local tool missing=()
    for tool in proot qemu-riscv64-static debootstrap; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    [ ${#missing[@]} -eq 0 ] || rv_die "missing host tools: ${missing[*]}; fix:" \
        "apt-get install --no-install-recommends qemu-user-static proot debootstrap libseccomp-dev"
}

# rv_guest ROOT [proot options...] -- COMMAND...: run COMMAND as riscv64 code in ROOT
# with fake root, a clean environment (nothing of the host's pip set-up leaks in) and
# only the host CA bundle and a timeout handed to pip and requests.
rv_guest() {
    local root="$1"; shift
    local opts=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
    [ "${1:-}" = "--" ] && shift
    [ $# -gt 0 ] || rv_die "rv_guest: no command given"
    local launcher; launcher="$(rv_launcher)" || exit 1
    local ca_opts=() ca_env=()
    if [ -r "$RV_HOST_CA" ]; then
        ca_opts=(-b "$RV_HOST_CA:/etc/ssl/host-ca.crt")
        ca_env=(PIP_CERT=/etc/ssl/host-ca.crt SSL_CERT_FILE=/etc/ssl/host-ca.crt
                REQUESTS_CA_BUNDLE=/etc/ssl/host-ca.crt)
    fi
    env -i PATH="$RV_GUEST_PATH" HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
        PIP_DEFAULT_TIMEOUT=120 PIP_DISABLE_PIP_VERSION_CHECK=1 "${ca_env[@]}" \
        "$launcher" proot -0 -q qemu-riscv64-static -r "$root" \
        -w / -b /proc -b /dev -b /sys -b /etc/resolv.conf "${ca_opts[@]}" "${opts[@]}" "$@"
}

# Timed step lines in the same shape as rvforge.log.step. errexit does not reach into
# the command (it runs as an `if` condition), so multi-command steps chain with `|| return`.
rv_step() {
    local name="$1"; shift
    local start=$SECONDS
    echo "==> $name"
    if "$@"; then
        echo "<== $name ($((SECONDS - start))s)"
    else
        local rc=$?
        echo "<!! $name failed ($((SECONDS - start))s)"
        return $rc
    fi
}
