#!/bin/sh
# Set-up on a fresh Debian machine (as root): the Debian packages nsbox's build, tests and
# benchmarks use, then the npm packages and the native addon (built from source by `npm ci`).
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  need=""
  for pkg in iproute2 util-linux iputils-ping procps make g++ python3; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need="$need $pkg"
  done
  if [ -n "$need" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $need
  fi
fi
npm ci --no-audit --no-fund
test -f build/Release/nsbox_native.node || { echo "setup: the native addon did not build" >&2; exit 1; }
