/**
 * firewall/coexistence.ts and forward-eval.ts without a kernel: which forward chains of other
 * firewalls drop which traffic of a network, told from chains and rules as the kernel dumps them
 * — iptables-nft's own (the golden nft-iptables-forward.hex, with its xtables matches) and ones
 * written with nsbox's statement builders, which compile rules byte for byte as nft does —
 * which firewall owns a chain, and the exact commands that let a network through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NFT_MSG, NFT_SET, NFT_SET_ELEM, decodeChainMessage, decodeRuleMessage, ifname, statements as s, u32host, type Expr, type NftFamily,
} from '../../../src/netlink/nftables/schema/index.js';
import type { NftChain, NftRule } from '../../../src/netlink/nftables/ops/index.js';
import { checkForward, fixCommands, recogniseFirewall, type BridgeNetfilter } from '../../../src/firewall/coexistence.js';
import type { SetContents, TableContents } from '../../../src/firewall/forward-eval.js';
import type { FirewallNetwork } from '../../../src/firewall/elements.js';
import { nftMessages } from '../netlink/nftables/nft-fixtures.js';

const BRNF_ON: BridgeNetfilter = { ipv4: true, ipv6: true };
const BRNF_OFF: BridgeNetfilter = { ipv4: false, ipv6: false };

function net(bridge: string, options: Partial<FirewallNetwork> = {}): FirewallNetwork {
  return { name: bridge.replace(/^nsbr-/, ''), bridge, subnets: ['10.77.0.0/24'], masquerade: true, internal: false, ...options };
}

/** A table of one base chain at the forward hook (and regular chains), rules in order. */
function table(family: NftFamily, name: string, policy: 'accept' | 'drop', rules: Record<string, Expr[][]>, sets: Record<string, SetContents> = {}, base = 'forward'): TableContents {
  const chains: NftChain[] = Object.keys(rules).map((c) => (c === base
    ? { family, table: name, name: c, type: 'filter', policy, hook: { hook: 'forward', priority: 0 } }
    : { family, table: name, name: c }));
  if (!(base in rules)) chains.push({ family, table: name, name: base, type: 'filter', policy, hook: { hook: 'forward', priority: 0 } });
  let handle = 1n;
  const byChain = new Map<string, NftRule[]>(Object.entries(rules).map(([c, list]) => [c, list.map((expressions) => ({ family, table: name, chain: c, handle: ++handle, expressions }))]));
  return { family, name, chains, rules: byChain, sets: new Map(Object.entries(sets)) };
}

const iif = s.meta('iifname');
const oif = s.meta('oifname');
const named = (load: ReturnType<typeof s.meta>, name: string, op: 'eq' | 'neq' = 'eq'): Expr[] => s.match(load, op, ifname(name));

/** findings as [network, chain, dropped, unsure] for short comparisons. */
function summary(tables: TableContents[], networks: FirewallNetwork[], brnf = BRNF_ON): [string, string, string[], string[]][] {
  return checkForward(tables, networks, brnf).findings.map((f) => [f.network, `${f.family} ${f.table} ${f.chain}`, f.dropped, f.unsure]);
}

void test('iptables-nft\'s own chain (golden): its conntrack and state matches, interface prefixes and the final REJECT, for two bridges', () => {
  const chains = nftMessages('nft-iptables-forward', 'received', NFT_MSG.NEWCHAIN).map((m) => decodeChainMessage(m.payload));
  const rules = nftMessages('nft-iptables-forward', 'received', NFT_MSG.NEWRULE).map((m) => decodeRuleMessage(m.payload));
  const filter: TableContents = {
    family: 'ip', name: 'filter', chains: chains.filter((c) => c.table === 'filter'),
    rules: new Map([['FORWARD', rules.filter((r) => r.chain === 'FORWARD')]]), sets: new Map(),
  };
  // -o nsbox+ … RELATED,ESTABLISHED,DNAT -j ACCEPT; -m state RELATED,ESTABLISHED -j ACCEPT; -i br0 -p tcp -j ACCEPT; -j REJECT
  const report = checkForward([filter], [net('nsbox0'), net('br0')], BRNF_ON);
  assert.deepEqual(report.chains, [{ family: 'ip', table: 'filter', chain: 'FORWARD', priority: 0, policy: 'drop', firewall: 'iptables' }]);
  const [nsbox0, br0] = report.findings;
  assert.deepEqual([nsbox0?.network, nsbox0?.dropped, nsbox0?.unsure], ['nsbox0', ['outbound', 'within'], []], 'published ports and replies pass `-o nsbox+`');
  assert.deepEqual(nsbox0?.reasons, ['chain FORWARD rule 5'], 'the REJECT rule, by its handle');
  assert.deepEqual([br0?.network, br0?.dropped, br0?.unsure], ['br0', ['published'], []], 'br0: out by `-i br0 -p tcp`, replies by the state match');
  assert.deepEqual(nsbox0?.fix, [
    'iptables -I FORWARD -i nsbox0 -j ACCEPT',
    'iptables -I FORWARD -o nsbox0 -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT',
  ]);
});

void test('a policy-drop nft chain drops every kind of traffic; the three rules nsbox prints let all of it through', () => {
  const bare = table('inet', 'hostfw', 'drop', { forward: [] });
  assert.deepEqual(summary([bare], [net('nsbr-web')]), [['web', 'inet hostfw forward', ['outbound', 'published', 'replies', 'within'], []]]);
  const fix = checkForward([bare], [net('nsbr-web')], BRNF_ON).findings[0]!.fix;
  assert.deepEqual(fix, [
    'nft \'insert rule inet hostfw forward iifname "nsbr-web" accept\'',
    'nft \'insert rule inet hostfw forward oifname "nsbr-web" ct state established,related accept\'',
    'nft \'insert rule inet hostfw forward oifname "nsbr-web" ct status dnat accept\'',
  ]);
  // What those three commands add, as nft compiles them (the statement builders match nft byte for byte).
  const fixed = table('inet', 'hostfw', 'drop', {
    forward: [
      [...named(iif, 'nsbr-web'), s.accept()],
      [...named(oif, 'nsbr-web'), ...s.matchBits(s.ct('state'), s.ctState('established', 'related')), s.accept()],
      [...named(oif, 'nsbr-web'), ...s.matchBits(s.ct('status'), s.CT_STATUS.dnat), s.accept()],
    ],
  });
  assert.deepEqual(summary([fixed], [net('nsbr-web'), net('nsbr-other', { subnets: ['10.78.0.0/24'] })]), [
    ['other', 'inet hostfw forward', ['outbound', 'published', 'replies', 'within'], []],
  ], 'only the network they name');
});

void test('the far side is one the chain does not name: a rule for one uplink, port or remote network does not count; one for the bridge, a wildcard of it or the subnet does', () => {
  const t = table('ip', 'hostfw', 'drop', {
    forward: [
      [...named(iif, 'eth0'), s.accept()],
      [...named(oif, 'eth0'), s.accept()],
      [...s.match(iif, 'eq', Uint8Array.from(Buffer.from('nsbr-'))), s.accept()], // iifname "nsbr-*"
      [...named(oif, 'lo', 'neq'), ...s.matchBits(s.ct('state'), s.ctState('established')), s.accept()],
    ],
  });
  assert.deepEqual(summary([t], [net('nsbr-web')], BRNF_OFF), [['web', 'ip hostfw forward', ['published'], []]]);
  const byAddress = table('ip', 'hostfw', 'drop', {
    forward: [
      [...s.match(s.field('th dport'), 'eq', Uint8Array.of(0, 22)), s.accept()],
      [...s.matchPrefix('ip daddr', '192.0.2.0/24'), s.accept()],
      [...s.matchPrefix('ip saddr', '10.77.0.0/24'), s.accept()], // the network's subnet: its outbound traffic
      [...s.matchPrefix('ip daddr', '10.77.0.0/16'), ...s.matchBits(s.ct('status'), s.CT_STATUS.dnat), s.accept()],
    ],
  });
  assert.deepEqual(summary([byAddress], [net('nsbr-web')], BRNF_OFF), [['web', 'ip hostfw forward', ['replies'], []]]);
});

void test('a rule nsbox cannot read that might accept makes the drop after it unsure; one that might drop is not counted', () => {
  const marked = [...s.match(s.meta('mark'), 'eq', u32host(1)), s.accept()]; // marks are set elsewhere: unknown here
  const maybeDrop = [...s.match(s.meta('mark'), 'eq', u32host(2)), s.drop()];
  const t = table('inet', 'hostfw', 'accept', { forward: [maybeDrop, marked, [...named(iif, 'nsbr-web'), s.drop()]] });
  const [f] = checkForward([t], [net('nsbr-web')], BRNF_OFF).findings;
  assert.deepEqual([f?.dropped, f?.unsure], [[], ['outbound']]);
  assert.deepEqual(f?.reasons, ['chain forward rule 4 unless chain forward rule 3 (which nsbox cannot read) lets it through']);
  const raw = table('inet', 'hostfw', 'drop', { forward: [[{ type: 'raw', name: 'limit', data: new Uint8Array(8) }, s.accept()]] });
  assert.deepEqual(summary([raw], [net('nsbr-web')], BRNF_OFF), [['web', 'inet hostfw forward', [], ['outbound', 'published', 'replies']]]);
  const maybeOnly = table('inet', 'hostfw', 'accept', { forward: [maybeDrop] });
  assert.deepEqual(summary([maybeOnly], [net('nsbr-web')]), [], 'a drop that may not apply is not reported');
});

void test('named sets, verdict maps, jumps, goto, return, reject and counters are followed', () => {
  const trusted: SetContents = { flags: 0, keyLen: 16, elements: [{ key: ifname('nsbr-web') }] };
  const bySet = table('inet', 'hostfw', 'drop', {
    forward: [[...s.inSet([iif], 'trusted'), s.accept()], [...s.inSet([oif], 'trusted'), s.accept()]],
  }, { trusted });
  assert.deepEqual(summary([bySet], [net('nsbr-web'), net('nsbr-db', { subnets: ['10.78.0.0/24'] })], BRNF_OFF), [
    ['db', 'inet hostfw forward', ['outbound', 'published', 'replies'], []],
  ]);
  const vmap: SetContents = { flags: NFT_SET.MAP, keyLen: 16, elements: [{ key: ifname('nsbr-web'), verdict: { code: 'jump', chain: 'web_in' } }] };
  const viaMap = table('inet', 'hostfw', 'accept', {
    forward: [[oif.into(1), { type: 'lookup', sreg: 1, dreg: 0, set: 'in_jumps' }], [s.counter()]],
    web_in: [[...s.matchBits(s.ct('state'), s.ctState('established', 'related')), s.accept()], [s.counter(), s.reject()]],
  }, { in_jumps: vmap });
  assert.deepEqual(summary([viaMap], [net('nsbr-web'), net('nsbr-db', { subnets: ['10.78.0.0/24'] })], BRNF_OFF), [
    ['web', 'inet hostfw forward', ['published'], []],
  ], 'only the bridge in the map is sent to the chain that rejects; replies are accepted there');
  const flow = table('ip', 'hostfw', 'drop', {
    forward: [[s.jump('early')], [s.goTo('late')], [s.accept()]],
    early: [[...named(iif, 'nsbr-web'), s.ret()], [s.counter()]],
    late: [[...named(iif, 'nsbr-web'), s.accept()], [s.ret()]],
  });
  assert.deepEqual(summary([flow], [net('nsbr-web')], BRNF_OFF), [['web', 'ip hostfw forward', ['published', 'replies'], []]],
    'goto returns to the base chain\'s caller: its policy, not the accept after it');
});

void test('rbtree interval sets (an interface wildcard in a set) match by range', () => {
  const start = ifname('nsbr-');
  const end = Uint8Array.from(start);
  end[4] = '-'.charCodeAt(0) + 1; // the first name after every "nsbr-*"
  const wildcard: SetContents = { flags: NFT_SET.INTERVAL, keyLen: 16, elements: [{ key: start }, { key: end, flags: NFT_SET_ELEM.INTERVAL_END }] };
  const t = table('inet', 'hostfw', 'drop', { forward: [[...s.inSet([iif], 'ours'), s.accept()], [...s.inSet([oif], 'ours'), s.accept()]] }, { ours: wildcard });
  assert.deepEqual(summary([t], [net('nsbr-web'), net('br0', { subnets: ['10.78.0.0/24'] })]), [
    ['br0', 'inet hostfw forward', ['outbound', 'published', 'replies', 'within'], []],
  ]);
});

void test('which traffic is asked of which table: internal networks only inside (with br_netfilter), families by subnet, bridge tables for bridged frames', () => {
  const drop4 = table('ip', 'v4', 'drop', { forward: [] });
  const drop6 = table('ip6', 'v6', 'drop', { forward: [] });
  const dropBridge = table('bridge', 'br', 'drop', { forward: [] });
  const internal = net('nsbr-int', { internal: true });
  assert.deepEqual(summary([drop4], [internal], BRNF_OFF), [], 'an internal network needs nothing forwarded without br_netfilter');
  assert.deepEqual(summary([drop4], [internal], BRNF_ON), [['int', 'ip v4 forward', ['within'], []]]);
  assert.deepEqual(summary([drop6], [net('nsbr-web')]), [], 'an IPv4 network never meets ip6 chains');
  assert.deepEqual(summary([drop6], [net('nsbr-six', { subnets: ['10.79.0.0/24', 'fd79::/64'] })], { ipv4: true, ipv6: false }), [
    ['six', 'ip6 v6 forward', ['outbound', 'published', 'replies'], []],
  ]);
  const [f] = checkForward([dropBridge], [net('nsbr-web')], BRNF_OFF).findings;
  assert.deepEqual([f?.dropped, f?.fix], [['within'], ['nft \'insert rule bridge br forward meta ibrname "nsbr-web" accept\'']]);
  const ibr = s.meta('bri_iifname');
  const bridgeFixed = table('bridge', 'br', 'drop', { forward: [[...named(ibr, 'nsbr-web'), s.accept()]] });
  assert.deepEqual(summary([bridgeFixed], [net('nsbr-web')], BRNF_OFF), []);
  const l4 = table('inet', 't', 'drop', { forward: [[...s.match(s.meta('l4proto'), 'eq', Uint8Array.of(1)), s.accept()], [...s.match(s.meta('nfproto'), 'eq', Uint8Array.of(10)), s.accept()]] });
  assert.deepEqual(summary([l4], [net('nsbr-web')], BRNF_OFF), [['web', 'inet t forward', ['outbound', 'published', 'replies'], []]], 'probes are IPv4 TCP');
  const dnatOnly = table('inet', 't', 'drop', { forward: [[s.ct('status').into(1), { type: 'cmp', sreg: 1, op: 'eq', data: u32host(0x20) }, s.accept()]] });
  assert.deepEqual(summary([dnatOnly], [net('nsbr-web')], BRNF_OFF), [['web', 'inet t forward', ['outbound', 'replies'], []]], 'ct status == dnat');
});

void test('xtables targets: LOG continues, REJECT drops, one nsbox does not know may end the chain', () => {
  // NFTA_TARGET_NAME (NUL-terminated, padded to 4) and NFTA_TARGET_REV 0, as iptables-nft sends them
  const target = (name: string): Expr => {
    const pad = (4 - ((name.length + 1) % 4)) % 4;
    const data = Buffer.concat([Buffer.from([4 + name.length + 1, 0, 1, 0]), Buffer.from(name), Buffer.alloc(1 + pad), Buffer.from([8, 0, 2, 0, 0, 0, 0, 0])]);
    return { type: 'raw', name: 'target', data: Uint8Array.from(data) };
  };
  const t = (name: string): TableContents => table('ip', 'filter', 'accept', { FORWARD: [[target(name)], [target('REJECT')]] }, {}, 'FORWARD');
  assert.deepEqual(summary([t('LOG')], [net('nsbr-web')], BRNF_OFF), [['web', 'ip filter FORWARD', ['outbound', 'published', 'replies'], []]]);
  assert.deepEqual(summary([t('NFQUEUE')], [net('nsbr-web')], BRNF_OFF), [['web', 'ip filter FORWARD', [], ['outbound', 'published', 'replies']]]);
  // ufw's `-m limit … -j LOG` before its policy: a rate limit only makes the rule's match unknown, and LOG decides nothing
  const limited = table('ip', 'filter', 'drop', { FORWARD: [[{ type: 'raw', name: 'limit', data: new Uint8Array(8) }, target('LOG')]] }, {}, 'FORWARD');
  assert.deepEqual(summary([limited], [net('nsbr-web')], BRNF_OFF), [['web', 'ip filter FORWARD', ['outbound', 'published', 'replies'], []]]);
});

void test('who owns a chain, by the names in its table', () => {
  const cases: [NftFamily, string, string, string[], string][] = [
    ['ip', 'filter', 'FORWARD', ['INPUT', 'FORWARD', 'OUTPUT'], 'iptables'],
    ['ip6', 'filter', 'FORWARD', ['FORWARD'], 'iptables'],
    ['ip', 'filter', 'FORWARD', ['FORWARD', 'DOCKER', 'DOCKER-USER', 'DOCKER-ISOLATION-STAGE-1'], 'docker'],
    ['ip', 'filter', 'FORWARD', ['FORWARD', 'DOCKER-FORWARD'], 'docker'],
    ['ip', 'filter', 'FORWARD', ['FORWARD', 'ufw-before-forward', 'ufw-user-forward'], 'ufw'],
    ['ip6', 'filter', 'FORWARD', ['FORWARD', 'ufw6-before-forward'], 'ufw'],
    ['ip', 'filter', 'FORWARD', ['FORWARD', 'ufw-before-forward', 'DOCKER-USER'], 'docker'],
    ['inet', 'firewalld', 'filter_FORWARD', ['filter_FORWARD'], 'firewalld'],
    ['ip', 'docker-bridges', 'filter-FORWARD', ['filter-FORWARD'], 'docker-nftables'],
    ['bridge', 'filter', 'FORWARD', ['FORWARD'], 'ebtables'],
    ['inet', 'filter', 'forward', ['forward'], 'nftables'],
    ['ip', 'filter', 'forward', ['forward'], 'nftables'],
  ];
  for (const [family, tableName, chain, chains, expected] of cases) {
    assert.equal(recogniseFirewall(family, tableName, chain, chains), expected, `${family} ${tableName} ${chain} [${chains.join(' ')}]`);
  }
});

void test('the commands for each firewall, with the real bridge name', () => {
  const fix = (family: NftFamily, tableName: string, chain: string, firewall: Parameters<typeof fixCommands>[0]['firewall'], chains: string[] = []): string[] => (
    fixCommands({ family, table: tableName, chain, firewall }, 'nsbr-web', chains));
  assert.deepEqual(fix('ip6', 'filter', 'FORWARD', 'iptables'), [
    'ip6tables -I FORWARD -i nsbr-web -j ACCEPT',
    'ip6tables -I FORWARD -o nsbr-web -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT',
  ]);
  assert.deepEqual(fix('ip', 'filter', 'FORWARD', 'docker', ['FORWARD', 'DOCKER-USER']), [
    'iptables -I DOCKER-USER -i nsbr-web -j ACCEPT',
    'iptables -I DOCKER-USER -o nsbr-web -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT',
  ]);
  assert.deepEqual(fix('ip', 'filter', 'FORWARD', 'ufw'), ['ufw route allow in on nsbr-web', 'ufw route allow out on nsbr-web']);
  assert.deepEqual(fix('inet', 'firewalld', 'filter_FORWARD', 'firewalld'), [
    'firewall-cmd --zone=trusted --add-interface=nsbr-web',
    'firewall-cmd --permanent --zone=trusted --add-interface=nsbr-web',
  ]);
  assert.deepEqual(fix('bridge', 'filter', 'FORWARD', 'ebtables'), ['ebtables -I FORWARD --logical-in nsbr-web -j ACCEPT']);
  assert.deepEqual(fix('ip', 'docker-bridges', 'filter-FORWARD', 'docker-nftables'), [
    'nft \'insert rule ip docker-bridges filter-FORWARD iifname "nsbr-web" accept\'',
    'nft \'insert rule ip docker-bridges filter-FORWARD oifname "nsbr-web" ct state established,related accept\'',
    'nft \'insert rule ip docker-bridges filter-FORWARD oifname "nsbr-web" ct status dnat accept\'',
  ]);
});
