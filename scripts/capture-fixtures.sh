#!/usr/bin/env bash
# Capture the netlink goldens in test/fixtures/netlink/*.hex from the running kernel.
#
#   sudo scripts/capture-fixtures.sh                  # (re)capture every fixture
#   sudo scripts/capture-fixtures.sh rtnetlink        # only the iproute2 ones (*.hex but nft-*)
#   sudo scripts/capture-fixtures.sh nftables         # only the nft ones (nft-*.hex)
#   sudo scripts/capture-fixtures.sh conntrack        # only the ctnetlink ones (ct-*.hex)
#   sudo scripts/capture-fixtures.sh tc               # only the traffic-control ones (tc-*.hex)
#   sudo scripts/capture-fixtures.sh nfqueue          # only the nfnetlink_queue ones (nfq-*.hex, nft-iptables-nfqueue*)
#   scripts/capture-fixtures.sh check-constants       # compare src/netlink/{route,nftables,conntrack,nfqueue,wire}
#                                                     # constants with the uapi headers (needs gcc
#                                                     # + linux headers)
#   sudo scripts/capture-fixtures.sh TARGET NAME…     # (re)capture only these of TARGET; every other
#                                                     # step still runs (without strace), so the
#                                                     # kernel state each capture sees is the same
#
# Capturing runs iproute2 and nft (Debian's nftables package) under strace inside a THROWAWAY
# network + mount namespace (`unshare --mount --net --propagation private`, tmpfs on /run for
# `ip netns`) and refuses to run when that namespace is the one it started in: it never touches
# the machine's real network (nor its nf_tables ruleset). Needs root, strace, iproute2 (`ip`,
# `bridge`) and nftables (`nft`); the conntrack fixtures also need conntrack-tools and python3
# (the flows).
#
# Fixture format (read by test/unit/netlink/fixtures.ts):
#   # <name>: <command>; captured by scripts/capture-fixtures.sh (strace ...); kernel ...; <tool> ...; date
#   > <hex of one datagram the command sent>
#   < <hex of one datagram it received>
# one line per datagram, in order. Captures keep kernel randomness (MAC addresses, seq numbers,
# port ids), so re-capturing changes the bytes; tests assert the stable fields.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$repo/test/fixtures/netlink"

check_constants() {
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  # NSBOX_UAPI_INCLUDE: a directory of newer uapi headers to check against first (e.g. a kernel
  # tree's usr/include); without it, the system's linux-libc-dev headers.
  node - "$repo" "$tmp/c.c" "${NSBOX_UAPI_INCLUDE:-}" <<'JS'
const fs = require('fs');
const [repo, cfile, extra] = process.argv.slice(2);
const read = (p) => fs.readFileSync(`${repo}/${p}`, 'utf8');
const src = read('src/netlink/route/schema/constants.ts') + read('src/netlink/wire/header.ts') +
  read('src/netlink/wire/attr.ts') + read('src/netlink/wire/error.ts').replace('NLMSGERR_ATTRS', 'NLMSGERR_ATTR') +
  read('src/netlink/nftables/schema/constants.ts') + read('src/netlink/wire/nfgen.ts') + read('src/netlink/conntrack/schema/constants.ts') +
  read('src/netlink/nfqueue/schema/constants.ts');
const headers = ['sys/socket.h', 'linux/netlink.h', 'linux/rtnetlink.h', 'linux/if_link.h', 'linux/if_addr.h',
  'linux/neighbour.h', 'linux/net_namespace.h', 'linux/veth.h', 'linux/if_arp.h', 'linux/if.h', 'linux/if_bridge.h', 'linux/in.h',
  'linux/in6.h', 'linux/netfilter.h', 'linux/netfilter/nfnetlink.h', 'linux/netfilter/nf_tables.h',
  'linux/netfilter/nf_nat.h', 'linux/netfilter/nf_conntrack_common.h', 'linux/netfilter/nfnetlink_conntrack.h',
  'linux/netfilter/nf_conntrack_tcp.h', 'linux/netfilter/nf_tables_compat.h', 'linux/netfilter/xt_conntrack.h', 'linux/netfilter/xt_state.h',
  'linux/netfilter/nfnetlink_queue.h', 'linux/netfilter/xt_NFQUEUE.h',
  'linux/pkt_sched.h', 'linux/gen_stats.h'];
const includes = headers.map((h) => `#include <${h}>`).join('\n');
// Every macro and enum of these headers, preprocessed, to tell a constant they do not have (a newer
// kernel's) from a wrong one.
const text = require('child_process').execFileSync('gcc', [...(extra ? ['-I', extra] : []), '-E', '-dD', '-x', 'c', '-'], { input: includes, encoding: 'utf8' });
const out = ['#include <stdio.h>', includes, 'int main(void) { int n = 0, bad = 0;'];
const absent = [];
const check = (c, v) => {
  if (!new RegExp(`\\b${c.replace(/^\(|&.*$/g, '').trim()}\\b`).test(text)) { absent.push(`${c}=${v}`); return; }
  out.push(`if ((long)(${c}) != (long)(${v})) { bad++; printf("MISMATCH ${c}: header %ld, ours ${v}\\n", (long)(${c})); } else n++;`);
};
// CT_STATE_BIT is derived from IP_CT and the NF_CT_STATE_*_BIT macros, which are checked
const derived = new Set(['CT_STATE_BIT']);
for (const m of src.matchAll(/export const (\w+) = \{([^}]*)\}/g)) {
  if (derived.has(m[1])) continue;
  const prefix = m[1] + '_';
  for (const p of (m[2] ?? '').matchAll(/(\w+):\s*(-?0x[0-9a-f]+|-?\d+)\s*[,\n]/gi)) check(prefix + p[1], p[2]);
}
for (const m of src.matchAll(/export const ((?:NLA|NLMSG|NETNSA|NFT|NF|NFNETLINK|NETLINK)_\w+) = (-?0x[0-9a-f]+|-?\d+);/gi)) {
  // the header's NLA_TYPE_MASK is ~(flags), an int; ours is the same mask on the 16-bit type
  check(m[1] === 'NLA_TYPE_MASK' ? '(NLA_TYPE_MASK & 0xffff)' : m[1], m[2]);
}
// a size, not a name the headers define: checked directly
const nfgenLen = /export const NFGENMSG_LEN = (\d+);/.exec(src)[1];
out.push(`if (sizeof(struct nfgenmsg) != ${nfgenLen}) { bad++; printf("MISMATCH sizeof(struct nfgenmsg)\\n"); } else n++;`);
// the nfnetlink_queue and xt_NFQUEUE struct sizes the codec writes and reads
for (const [c, struct] of [['NFQNL_PACKET_HDR_LEN', 'nfqnl_msg_packet_hdr'], ['NFQNL_CONFIG_PARAMS_LEN', 'nfqnl_msg_config_params'], ['XT_NFQ_INFO_V3_LEN', 'xt_NFQ_info_v3']]) {
  const v = new RegExp(`export const ${c} = (\\d+);`).exec(src)[1];
  out.push(`if (sizeof(struct ${struct}) != ${v}) { bad++; printf("MISMATCH sizeof(struct ${struct})\\n"); } else n++;`);
}
out.push(`printf("%d constants match the uapi headers, %d differ\\n", n, bad);`);
if (absent.length > 0) {
  out.push(`printf("${absent.length} are newer than these headers, not checked here (compare with torvalds/linux include/uapi, or set NSBOX_UAPI_INCLUDE): ${absent.join(' ')}\\n");`);
}
out.push('return bad != 0; }');
fs.writeFileSync(cfile, out.join('\n'));
JS
  gcc ${NSBOX_UAPI_INCLUDE:+-I"$NSBOX_UAPI_INCLUDE"} -o "$tmp/c" "$tmp/c.c" && "$tmp/c"
}

if [[ "${1:-}" == check-constants ]]; then
  check_constants
  exit
fi

if [[ "${NSBOX_CAPTURE_INNER:-}" != 1 ]]; then
  [[ $(id -u) == 0 ]] || { echo "capture-fixtures: needs root (unshare --net)" >&2; exit 1; }
  outer=$(readlink /proc/self/ns/net)
  exec unshare --mount --net --propagation private \
    env NSBOX_CAPTURE_INNER=1 NSBOX_OUTER_NETNS="$outer" bash "${BASH_SOURCE[0]}" "$@"
fi

# ---- inside the throwaway namespaces from here on ----
inner=$(readlink /proc/self/ns/net)
if [[ -z "${NSBOX_OUTER_NETNS:-}" || "$inner" == "$NSBOX_OUTER_NETNS" || "$inner" == "$(readlink /proc/1/ns/net)" ]]; then
  echo "capture-fixtures: refusing to run: not in a fresh network namespace ($inner)" >&2
  exit 1
fi
mount -t tmpfs none /run

only=("${@:2}")
kernel=$(uname -r)
iproute=$(ip -V | sed -n 's/.*\(iproute2-[^ ,]*\).*/\1/p')
when=$(date -u +%Y-%m-%dT%H:%MZ)
strace_opts=(-f -xx -s 65536 -e trace=sendmsg,recvmsg,sendto,recvfrom -e read=all -e write=all)
# the tool whose version the provenance line names, and strace options for one capture only
tool=$iproute
extra_strace=()
mkdir -p "$out"

# capture NAME CMD...  — run CMD under strace, write NAME.hex (CMD's failure is recorded, not fatal).
capture() {
  local name=$1
  shift
  if [[ ${#only[@]} -gt 0 && " ${only[*]} " != *" $name "* ]]; then
    "$@" >/dev/null 2>&1 || true
    return
  fi
  local log
  log=$(mktemp)
  strace "${strace_opts[@]}" "${extra_strace[@]}" -o "$log" -- "$@" >/dev/null 2>&1 || true
  {
    printf '# %s: `%s`; captured by scripts/capture-fixtures.sh in a throwaway netns (unshare --mount --net) with `strace %s`; kernel %s; %s; %s\n' \
      "$name" "$*" "${strace_opts[*]}${extra_strace[*]:+ ${extra_strace[*]}}" "$kernel" "$tool" "$when"
    # strace prints each syscall line, then for data-carrying calls a hex dump:
    #   " | 00000  20 00 00 00 10 00 05 00  00 00 ...   ascii |"
    awk '
      function flush() { if (dir != "" && hex != "") print dir " " hex; hex = "" }
      /^(\[pid +[0-9]+\] )?[0-9]* *(sendmsg|sendto)\(/ { flush(); dir = ">"; next }
      /^(\[pid +[0-9]+\] )?[0-9]* *(recvmsg|recvfrom)\(/ { flush(); dir = "<"; next }
      /^ \| [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / { d = substr($0, 11, 49); gsub(/ /, "", d); hex = hex d; next }
      /^ \* / { next }
      { flush(); dir = "" }
      END { flush() }
    ' "$log"
  } >"$out/$name.hex"
  rm -f "$log"
  echo "captured $name ($(grep -c '^[<>]' "$out/$name.hex") datagrams)"
}

# The ctnetlink fixtures (ct-*.hex): conntrack-tools' requests and the kernel's answers about real
# flows between two namespaces over a veth pair, tracked in `cth` (the kernel tracks a namespace
# only once a rule needs conntrack: one nf_tables rule with a ct expression). Fixed ports, so the
# tests know every tuple.
capture_conntrack() {
  tool="conntrack-tools $(conntrack --version 2>&1 | sed -n 's/.*v\([0-9.]*\).*/\1/p')"
  ip netns add ctc
  ip netns add cth
  ip link add ctv0 netns ctc type veth peer name ctv1 netns cth
  ip -n ctc addr add 10.7.0.1/24 dev ctv0
  ip -n ctc addr add fd07::1/64 dev ctv0 nodad
  ip -n cth addr add 10.7.0.2/24 dev ctv1
  ip -n cth addr add fd07::2/64 dev ctv1 nodad
  for ns in ctc cth; do ip -n $ns link set lo up; done
  ip -n ctc link set ctv0 up
  ip -n cth link set ctv1 up
  ip netns exec cth nft -f - <<'NFT'
table inet capture {
	chain track {
		type filter hook prerouting priority -300; policy accept;
		ct state new
	}
}
NFT
  # one ping each way first: neighbours resolved (and an ICMP and an ICMPv6 entry in the table)
  ip netns exec ctc ping -c 1 -W 3 10.7.0.2 >/dev/null
  ip netns exec ctc ping -c 1 -W 3 fd07::2 >/dev/null
  # TCP servers on 8080 (v4 and v6) that hold each connection open while the captures run
  ip netns exec cth python3 -c '
import socket, time
servers = []
for family, addr in ((socket.AF_INET, "10.7.0.2"), (socket.AF_INET6, "fd07::2")):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 8080))
    s.listen()
    servers.append(s)
conns = [s.accept()[0] for s in servers]
time.sleep(30)
' &
  local servers=$!
  sleep 0.5
  # TCP v4 and v6 from fixed ports, held established; UDP to 8053 (v4 and v6), 8054 and 8055 (v4)
  ip netns exec ctc python3 -c '
import socket, time
flows = []
for family, src, dst, sport in ((socket.AF_INET, "10.7.0.1", "10.7.0.2", 41000), (socket.AF_INET6, "fd07::1", "fd07::2", 41001)):
    c = socket.socket(family, socket.SOCK_STREAM)
    c.bind((src, sport))
    c.connect((dst, 8080))
    flows.append(c)
for family, src, dst, sport, dport in ((socket.AF_INET, "10.7.0.1", "10.7.0.2", 40000, 8053), (socket.AF_INET6, "fd07::1", "fd07::2", 40001, 8053),
                                       (socket.AF_INET, "10.7.0.1", "10.7.0.2", 40002, 8054), (socket.AF_INET, "10.7.0.1", "10.7.0.2", 40003, 8055)):
    u = socket.socket(family, socket.SOCK_DGRAM)
    u.bind((src, sport))
    u.sendto(b"x", (dst, dport))
time.sleep(30)
' &
  local clients=$!
  sleep 1
  capture ct-dump nsenter --net=/run/netns/cth conntrack -L
  capture ct-dump-v6 nsenter --net=/run/netns/cth conntrack -L -f ipv6
  capture ct-delete-udp-8053 nsenter --net=/run/netns/cth conntrack -D -p udp --orig-port-dst 8053
  # A delete that finds its entry gone (ENOENT): strace holds conntrack's first recvmsg (the dump)
  # for a second, and meanwhile another conntrack deletes the entry the dump reported.
  (sleep 0.4; nsenter --net=/run/netns/cth conntrack -D -p udp --orig-port-dst 8055 >/dev/null 2>&1) &
  local deleter=$!
  extra_strace=(-e inject=recvmsg:delay_exit=1000000:when=1)
  capture ct-delete-gone nsenter --net=/run/netns/cth conntrack -D -p udp --orig-port-dst 8055
  extra_strace=()
  wait "$deleter"
  kill "$clients" "$servers" 2>/dev/null || true
  wait "$clients" "$servers" 2>/dev/null || true
  tool=$iproute
}

ip link set lo up

capture_rtnetlink() {
tool=$iproute
ip netns add peerns

# Links: requests + acks, then kernel replies with details and IFLA_STATS64.
capture link-add-veth ip link add v0 mtu 1400 address 02:00:00:00:00:01 type veth peer name v1 mtu 1400 address 02:00:00:00:00:02 netns peerns
capture link-add-bridge ip link add br0 type bridge stp_state 1 forward_delay 300 hello_time 150 priority 100
# this kernel is built without CONFIG_BRIDGE_VLAN_FILTERING: EOPNOTSUPP, no extack, full echo
capture link-add-bridge-vlanfilter ip link add br9 type bridge stp_state 0 forward_delay 200 vlan_filtering 1
capture link-add-vxlan ip link add vx0 type vxlan id 42 local 10.0.0.1 remote 10.0.0.2 dstport 4789 dev v0 ttl 64 nolearning
capture link-add-vxlan-overlay ip link add vxo type vxlan id 7 local 10.0.0.1 dev v0 dstport 8472 nolearning proxy l2miss l3miss ttl 16 udpcsum
capture link-add-macvlan ip link add mv0 link v0 type macvlan mode bridge
# the dummy module is not available on the capture machine: the kernel answers with an extack
capture link-add-dummy ip link add d0 type dummy
ip link add w0 type veth peer name w1
capture link-set-master ip link set w0 master br0
capture link-set-hairpin ip link set w0 type bridge_slave hairpin on
ip link set v0 up
ip link set w0 up
ip link set w1 up
ip -n peerns link set v1 up
ip -n peerns link set lo up
# some traffic so the counters are not all zero
for _ in 1 2 3; do echo x >/dev/udp/127.0.0.1/9 || true; done
capture link-get-veth ip -d -s link show dev v0
capture link-get-bridge ip -d link show dev br0
capture link-get-vxlan ip -d link show dev vx0
capture link-get-macvlan ip -d link show dev mv0
capture link-dump ip -s link show

# Addresses
capture addr-add-v4 ip addr add 10.1.0.1/24 broadcast 10.1.0.255 label v0:lab dev v0
capture addr-add-v6 ip addr add 2001:db8::1/64 dev v0 nodad noprefixroute
ip addr add 2001:db8:f::1/64 dev v0 nodad
capture addr-add-dup ip addr add 10.1.0.1/24 dev v0
capture addr-dump ip addr show dev v0

# Routes
capture route-add-v4 ip route add 10.2.0.0/16 via 10.1.0.2 dev v0 table 100 metric 50 proto static
capture route-add-v4-bigtable ip route add 10.3.0.0/16 via 10.1.0.2 dev v0 table 1000
capture route-add-v6 ip -6 route add 2001:db8:1::/48 via 2001:db8:f::2 dev v0 metric 1024 table 200
capture route-add-dup ip -6 route add 2001:db8:1::/48 via 2001:db8:f::2 dev v0 metric 1024 table 200
capture route-dump-v4 ip route show table 100
capture route-dump-v6 ip -6 route show table 200
capture route-get ip route get 10.1.0.7 from 10.1.0.1
capture route-get-v6 ip -6 route get 2001:db8:f::9

# Neighbours and bridge FDB
capture neigh-add ip neigh add 10.1.0.3 lladdr 02:00:00:00:00:33 dev v0 nud permanent
capture neigh-dump ip neigh show dev v0
capture fdb-add bridge fdb add 02:00:00:00:00:44 dev vx0 dst 10.0.0.9 self permanent
capture fdb-dump bridge fdb show dev vx0
# the overlay's writes (docs/overlay.md): idempotent replaces, an FDB entry with port and VNI,
# an onlink route tagged with nsbox's route protocol (RTPROT_NSBOX = 110)
capture fdb-replace bridge fdb replace 02:00:00:00:00:55 dev vx0 dst 10.0.0.8 port 8472 vni 42 self permanent
capture fdb-del bridge fdb del 02:00:00:00:00:55 dev vx0 dst 10.0.0.8 self
capture neigh-replace ip neigh replace 10.244.2.0 lladdr 0e:00:00:00:00:02 dev vx0 nud permanent
ip link set vx0 up
capture route-replace-onlink ip route replace 10.244.2.0/24 via 10.244.2.0 dev vx0 onlink proto 110
capture route-dump-onlink ip route show proto 110

# Namespace ids
ip netns add otherns
capture nsid-set ip netns set otherns 7
# peerns got id 0 automatically when v0's peer was created in it: EEXIST with extack text + offset
capture nsid-set-dup ip netns set peerns 8
capture nsid-dump ip netns list-id
capture nsid-get ip netns list
}

# nf_tables: what nft sends (no NLM_F_ACK: only errors come back) and, for `list`, the kernel's
# dump replies. Each capture runs in a namespace of its own (`ip netns exec`), prepared by nft
# itself outside strace, so a fixture holds only the command named on its first line.
capture_nftables() {
tool="nftables $(nft --version | sed -n 's/^nftables v\([^ ]*\).*/\1/p')"
local design="$repo/test/fixtures/nftables/nsbox.nft" elements="$repo/test/fixtures/nftables/nsbox-elements.nft"
nsnew() { ip netns del nft0 2>/dev/null || true; ip netns add nft0; ip -n nft0 link set lo up; }
nsnew
capture nft-table-comment ip netns exec nft0 nft add table inet nsbox '{ comment "nsbox layout=1"; }'
capture nft-chain-base ip netns exec nft0 nft add chain inet nsbox postrouting '{ type nat hook postrouting priority srcnat; policy accept; }'
capture nft-chain-regular ip netns exec nft0 nft add chain inet nsbox published
# research/nat-nftables.md §2.7, the worked example
capture nft-rule-masq ip netns exec nft0 nft add rule inet nsbox postrouting ip saddr 10.88.0.0/16 oifname != '"nsbox0"' masquerade comment '"outbound"'
capture nft-map-concat ip netns exec nft0 nft add map inet nsbox dnat4 '{ type inet_proto . ipv4_addr . inet_service : ipv4_addr . inet_service; comment "proto . host ip . host port -> sandbox ip . port"; }'
capture nft-set-pipapo ip netns exec nft0 nft add set inet nsbox own_net4 '{ type ifname . ipv4_addr; flags interval; comment "bridge . its subnet"; }'
capture nft-set-interval ip netns exec nft0 nft add set inet nsbox nat_nets4 '{ type ipv4_addr; flags interval; }'
capture nft-elements-map ip netns exec nft0 nft add element inet nsbox dnat4 '{ tcp . 192.0.2.1 . 8081 comment "sandbox=web port=8081/tcp" : 10.88.0.3 . 80, udp . 192.0.2.1 . 8053 : 10.88.0.3 . 53 }'
capture nft-elements-pipapo ip netns exec nft0 nft add element inet nsbox own_net4 '{ "nsbox0" . 10.88.0.0/16 comment "network=nsbox0", "nsbox1" . 10.89.0.0/16 }'
capture nft-elements-interval ip netns exec nft0 nft add element inet nsbox nat_nets4 '{ 10.88.0.0/16, 10.89.0.0/16 }'
# the same key with other data: EEXIST, with the kernel's extack offset inside the element
capture nft-elements-dup ip netns exec nft0 nft add element inet nsbox dnat4 '{ tcp . 192.0.2.1 . 8081 : 10.88.0.4 . 80 }'
# the whole research §3.2 table in one batch (23 rules, 11 sets, 7 chains), then its elements,
# and the kernel's dump of the result
nsnew
capture nft-ruleset ip netns exec nft0 nft -f "$design"
capture nft-ruleset-elements ip netns exec nft0 nft -f "$elements"
capture nft-list-ruleset ip netns exec nft0 nft list ruleset
# Lab faults (firewall/fault-table.ts, research/labs-overlay.md §A2.2): `numgen random` and its
# `byteorder` hton in a concatenated lookup, the typeof set over them, a range element (20% loss on
# packets arriving on vb), and the kernel's dump of the rule (numgen, byteorder, counter).
nsnew
ip netns exec nft0 nft add table inet nsbox_fault
ip netns exec nft0 nft add chain inet nsbox_fault pre '{ type filter hook prerouting priority -300; policy accept; }'
capture nft-fault-set ip netns exec nft0 nft add set inet nsbox_fault loss '{ typeof meta iifname . numgen random mod 1000000; flags interval; }'
capture nft-fault-rule ip netns exec nft0 nft add rule inet nsbox_fault pre meta iifname . numgen random mod 1000000 @loss counter drop
capture nft-fault-elements ip netns exec nft0 nft add element inet nsbox_fault loss '{ "vb" . 0-199999 }'
capture nft-fault-list ip netns exec nft0 nft list table inet nsbox_fault
# Another firewall's forward chain as the kernel dumps it to `iptables-nft -S` (firewall/coexistence.ts
# reads such chains): iptables-nft's own encoding, xtables matches and targets inside nf_tables.
nsnew
local fwd=(ip netns exec nft0 iptables-nft)
"${fwd[@]}" -P FORWARD DROP
"${fwd[@]}" -A FORWARD -o nsbox+ -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT
"${fwd[@]}" -A FORWARD -m state --state RELATED,ESTABLISHED -j ACCEPT
"${fwd[@]}" -A FORWARD -i br0 -p tcp -j ACCEPT
"${fwd[@]}" -A FORWARD -j REJECT
tool="iptables $(iptables-nft --version | sed -n 's/^iptables v\([^ ]*\).*/\1/p')"
capture nft-iptables-forward "${fwd[@]}" -S FORWARD
ip netns del nft0
}

# Traffic control (tc-*.hex): tc's qdisc and class requests on one end of a veth pair in a
# namespace of its own, and the kernel's dumps. netem is not built into every kernel (not into the
# capture machine's: CONFIG_NET_SCH_NETEM unset): its fixture then holds tc's request and the
# kernel's ENOENT. tc reads /proc/net/psched for its tick conversions; the provenance line says
# what it held.
capture_tc() {
tool="$iproute, /proc/net/psched $(cat /proc/net/psched)"
ip netns del tc0 2>/dev/null || true
ip netns add tc0
ip -n tc0 link set lo up
ip -n tc0 link add t0 type veth peer name t1
ip -n tc0 link set t0 up
ip -n tc0 link set t1 up
local tc=(ip netns exec tc0 tc)
capture tc-qdisc-add-tbf "${tc[@]}" qdisc add dev t0 root tbf rate 10mbit burst 32kbit latency 50ms
capture tc-qdisc-replace-tbf "${tc[@]}" qdisc replace dev t0 root tbf rate 40gbit burst 64kb limit 100000 peakrate 50gbit mtu 2000
capture tc-qdisc-change-tbf "${tc[@]}" qdisc change dev t0 root tbf rate 50mbit burst 64kbit latency 50ms
capture tc-qdisc-show-tbf "${tc[@]}" -j -s qdisc show dev t0
capture tc-qdisc-del-root "${tc[@]}" qdisc del dev t0 root
capture tc-qdisc-add-htb "${tc[@]}" qdisc add dev t0 root handle 1: htb default 10 r2q 5 direct_qlen 100
capture tc-class-add-htb "${tc[@]}" class add dev t0 parent 1: classid 1:10 htb rate 25mbit ceil 30mbit prio 1 quantum 1500
capture tc-class-add-htb-64 "${tc[@]}" class add dev t0 parent 1: classid 1:20 htb rate 40gbit burst 15k cburst 20k
capture tc-qdisc-show-htb "${tc[@]}" -j -s qdisc show dev t0
capture tc-class-show-htb "${tc[@]}" -j -s class show dev t0
capture tc-class-del-htb "${tc[@]}" class del dev t0 classid 1:20
"${tc[@]}" qdisc del dev t0 root
capture tc-qdisc-add-netem "${tc[@]}" qdisc add dev t0 root netem limit 2000 delay 20ms 5ms loss 1.5% duplicate 2% corrupt 0.5% rate 100mbit
capture tc-qdisc-add-pfifo "${tc[@]}" qdisc add dev t0 root handle 2: pfifo limit 50
"${tc[@]}" qdisc del dev t0 root
capture tc-qdisc-add-ingress "${tc[@]}" qdisc add dev t0 ingress
"${tc[@]}" qdisc del dev t0 ingress
capture tc-qdisc-add-clsact "${tc[@]}" qdisc add dev t0 clsact
capture tc-qdisc-show-clsact "${tc[@]}" -j qdisc show dev t0
capture tc-qdisc-del-clsact "${tc[@]}" qdisc del dev t0 clsact
ip netns del tc0
tool=$iproute
}

# nfnetlink_queue (nfq-*.hex) and the NFQUEUE rule (research/labs-overlay.md §A2.4): iptables-nft's
# `-j NFQUEUE --queue-num 3 --queue-bypass` (an nft_compat `target` expression: name NFQUEUE, rev 3,
# struct xt_NFQ_info_v3) and the kernel's dump of it; then libnetfilter_queue's own calls
# (test/fixtures/nfqueue/nfq-reference.c, built here; Debian's libnetfilter-queue-dev) binding
# queue 3 in META mode and giving verdicts to four pings on lo (accept, hold, batch, drop), with
# the kernel's packet messages. Needs gcc, iptables-nft, libnetfilter-queue-dev and ping.
capture_nfqueue() {
local bin
bin=$(mktemp -d)
gcc -Wall -o "$bin/nfq-reference" "$repo/test/fixtures/nfqueue/nfq-reference.c" -lnetfilter_queue
ip netns del nfq0 2>/dev/null || true
ip netns add nfq0
ip -n nfq0 link set lo up
tool="iptables $(iptables-nft --version | sed -n 's/^iptables v\([^ ]*\).*/\1/p')"
capture nft-iptables-nfqueue ip netns exec nfq0 iptables-nft -t mangle -A PREROUTING -i veth1 -j NFQUEUE --queue-num 3 --queue-bypass
capture nft-iptables-nfqueue-list ip netns exec nfq0 iptables-nft -t mangle -S PREROUTING
ip netns exec nfq0 iptables-nft -t mangle -F PREROUTING
ip netns exec nfq0 iptables-nft -t mangle -A PREROUTING -i lo -p icmp --icmp-type echo-request -j NFQUEUE --queue-num 3
tool="libnetfilter_queue $(dpkg-query -W -f='${Version}' libnetfilter-queue1 2>/dev/null || echo unknown)"
(sleep 0.5; ip netns exec nfq0 ping -c 4 -i 0.2 -W 1 127.0.0.1 >/dev/null 2>&1) &
capture nfq-reference ip netns exec nfq0 "$bin/nfq-reference"
wait
ip netns del nfq0
rm -rf "$bin"
tool=$iproute
}

case "${1:-all}" in
  rtnetlink) capture_rtnetlink ;;
  nftables) capture_nftables ;;
  conntrack) capture_conntrack ;;
  tc) capture_tc ;;
  nfqueue) capture_nfqueue ;;
  all) capture_rtnetlink; capture_nftables; capture_conntrack; capture_tc; capture_nfqueue ;;
  *) echo "capture-fixtures: unknown target ${1} (rtnetlink, nftables, conntrack, tc, nfqueue, all, check-constants)" >&2; exit 2 ;;
esac
