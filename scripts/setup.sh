#!/bin/sh
# Set-up on a fresh Debian machine (as root), from a clone. Leaves a runnable CLI and library:
#
#   1. the Debian packages nsbox's build, tests, benchmarks and fixture captures use (nftables:
#      `nft`, the integration tests' nf_tables oracle; iptables: the foreign rules the firewall
#      tests and benchmarks set beside it; strace: scripts/capture-fixtures.sh and the CNI
#      kill matrix; iperf3: the delay benchmark's traffic; libnetfilter-queue-dev: the reference
#      client of the nfnetlink_queue fixtures; containernetworking-plugins: the reference CNI plugins in /usr/lib/cni,
#      delegated IPAM, the CNI benchmark and differential conformance runs; podman, crun,
#      conmon and busybox-static: the podman test, offline with a busybox rootfs; golang-go
#      and golang-github-appc-cni-dev: the libcni driver the CNI tests build; chromium: the
#      headless browser the lab graph's HTML page is checked in; graphviz: `dot`, the oracle of
#      the lab graph's DOT output; etcd-server and etcd-client: the overlay tests' etcd
#      (test/helpers/etcd.ts) and its etcdctl oracle), apt-get only for missing ones;
#   2. node_modules by `npm ci`, whose `install` script builds the addon (build/) and whose
#      `prepare` script builds the TypeScript (dist/); then the npm cache gets what installing
#      the packed package resolves, so test/integration/package can install it offline;
#   3. the addon (and its executables nsbox-exec and the nsbox-cni shim), rebuilt when native/
#      or binding.gyp changed;
#   4. dist/, rebuilt when the TypeScript sources changed.
#
# Idempotent: each of 2–4 is skipped when its stamp (node_modules/.nsbox-setup, build/…,
# dist/…) holds the hash of its inputs now (package-lock.json; native/ and binding.gyp; the
# sources tsc and the bundler read) and of the Node ABI. A second run with nothing changed is
# a quick offline no-op.
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  need=""
  for pkg in iproute2 util-linux iputils-ping procps make g++ python3 nftables conntrack strace iptables iperf3 libnetfilter-queue-dev \
      containernetworking-plugins podman crun conmon busybox-static golang-go golang-github-appc-cni-dev \
      chromium graphviz etcd-server etcd-client; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need="$need $pkg"
  done
  if [ -n "$need" ]; then
    echo "setup: apt-get install$need" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $need
  fi
fi

abi=$(node -p 'process.platform + "-" + process.arch + " node-abi-" + process.versions.modules')
# inputs_hash PATH…: one hash of the Node ABI and of every file under PATH… (names and contents).
inputs_hash() {
  { echo "$abi"; find "$@" -type f -exec sha256sum {} + | LC_ALL=C sort -k 2; } | sha256sum | cut -d ' ' -f 1
}
current() { # current STAMP HASH: the stamp file holds HASH
  [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]
}
ts_inputs() {
  echo tsconfig.json package-lock.json scripts/bundle.js src test bench
  find scripts -name '*.ts'
}

did=""
deps=$(inputs_hash package-lock.json)
addon=$(inputs_hash binding.gyp native)
# shellcheck disable=SC2046
ts=$(inputs_hash $(ts_inputs))

if ! current node_modules/.nsbox-setup "$deps"; then
  npm ci --no-audit --no-fund   # also builds the addon (install) and dist/ (prepare)
  # What `npm i nsbox-*.tgz` resolves (the registry metadata and tarballs of the runtime
  # dependencies), into the npm cache, by a throwaway install of the same dependencies.
  specs=$(node -p 'Object.entries(require("./package.json").dependencies).map(([n, v]) => `${n}@${v}`).join(" ")')
  tmp=$(mktemp -d)
  echo '{ "private": true }' >"$tmp/package.json"
  # shellcheck disable=SC2086
  (cd "$tmp" && npm install --ignore-scripts --no-package-lock --no-audit --no-fund --loglevel=error $specs >/dev/null)
  rm -rf "$tmp"
  echo "$deps" >node_modules/.nsbox-setup
  # npm ci's scripts just built these from the sources hashed above (unless scripts are off).
  if [ -f build/Release/nsbox_native.node ]; then echo "$addon" >build/.nsbox-setup; fi
  if [ -f dist/cli.cjs ] && [ -f dist/nsbox.mjs ]; then echo "$ts" >dist/.nsbox-setup; fi
  did="$did node_modules"
fi
if ! [ -f build/Release/nsbox_native.node ] || ! [ -f build/Release/nsbox-cni ] || ! current build/.nsbox-setup "$addon"; then
  npm run --silent build:addon
  echo "$addon" >build/.nsbox-setup
  did="$did addon"
fi
if ! [ -f dist/cli.cjs ] || ! [ -f dist/nsbox.mjs ] || ! current dist/.nsbox-setup "$ts"; then
  npm run --silent build:ts
  echo "$ts" >dist/.nsbox-setup
  did="$did dist/"
fi

test -f build/Release/nsbox_native.node || { echo "setup: the native addon did not build" >&2; exit 1; }
test -x build/Release/nsbox-cni || { echo "setup: the nsbox-cni shim did not build" >&2; exit 1; }
test -f dist/cli.cjs || { echo "setup: the TypeScript did not build" >&2; exit 1; }
if [ -n "$did" ]; then
  echo "setup: built$did" >&2
else
  echo "setup: nothing to do (Debian packages, node_modules, addon and dist/ are current)" >&2
fi
