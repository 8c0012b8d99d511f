#!/usr/bin/env bash
# One set-up command for a fresh machine: system packages, .venv with rvforge and the app.
#   bash ci/setup.sh          # tool + app (runtime)
#   bash ci/setup.sh --dev    # plus test dependencies and the browser for UI tests
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=0
[ "${1:-}" = "--dev" ] && DEV=1
PY=${PYTHON:-python3}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
  echo "need root for: $*" >&2; return 1; fi; }

# System packages: compilers, pkg-config, OpenBLAS, and what the tests drive for real.
if command -v apt-get >/dev/null; then
  pkgs="gcc g++ gfortran pkg-config libopenblas-dev cmake ninja-build patch git ccache python3-venv
        libjpeg-dev zlib1g-dev libprotobuf-dev protobuf-compiler"
  [ "$DEV" = 1 ] && pkgs="$pkgs meson chromium chromium-driver openssh-server openssh-client rsync
        proot qemu-user-static debootstrap libseccomp-dev distcc gcc-riscv64-linux-gnu g++-riscv64-linux-gnu"
  missing=$(for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
  if [ -n "$missing" ]; then
    as_root apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends $missing
  fi
elif command -v dnf >/dev/null; then
  pkgs="gcc gcc-c++ gcc-gfortran pkgconf openblas-devel cmake ninja-build patch git python3-devel
        libjpeg-turbo-devel zlib-devel"
  missing=$(for p in $pkgs; do rpm -q "$p" >/dev/null 2>&1 || echo "$p"; done)
  # shellcheck disable=SC2086
  [ -z "$missing" ] || as_root dnf install -y $missing
fi

machine=$(uname -m)
if [ ! -x .venv/bin/python ]; then
  # On riscv64 the distro's torch (if any) stays visible to the venv.
  if [ "$machine" = riscv64 ]; then "$PY" -m venv --system-site-packages .venv; else "$PY" -m venv .venv; fi
fi
# Hosts with local file indexes make pip warn about every missing entry: keep real messages only.
pip_install() { .venv/bin/python -m pip install -q "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
extras=""
[ "$DEV" = 1 ] && extras="[test]"
if [ "$machine" = x86_64 ]; then
  # The dev host pins the CPU torch build (constraints/dev.txt).
  pip_install -c constraints/dev.txt -e ".${extras}" -e ./app
else
  # The laptop never pins torch: it comes from the distro (system site packages), the wheelhouse
  # that `invoke build-wheels` fills, or a wheel the user has. Without one, the app is installed
  # without it and `invoke doctor` / `invoke build-wheels` say what to do.
  pip_install -e ".${extras}"
  if ! pip_install --find-links wheelhouse -e ./app; then
    pip_install --no-deps -e ./app
    pip_install --find-links wheelhouse Flask waitress numpy Pillow || true
    echo "note: no torch for $machine yet: run 'invoke build-wheels' (or install your distro's torch);" \
         "until then the eraser uses its classical engine" >&2
  fi
fi
echo "ready: .venv (activate with: . .venv/bin/activate)"
