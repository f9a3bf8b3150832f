/**
 * Benchmark: published ports (issue 12, "Measure"), side by side in one run, inside the
 * throwaway host made by scripts/run-bench.js. `npm run bench -- ports [reps]` (default 21).
 *
 * 1. 1,000 published ports added, then removed (medians of `reps`, peers interleaved):
 *    (a) Firewall.publish/unpublish: one element transaction into `inet nsbox`'s dnat4_any;
 *    (b) the managed layer: publishLocked/unpublishLocked under the sandbox's lock (what `run -p`,
 *        `connect -p` and `rm` call): 1,000 host ports bound, store rows, the elements, and on
 *        removal the conntrack clean-up; (b') the public API: Manager.connect -p minus connect,
 *        Manager.disconnect with the ports minus without;
 *    (c) `nft -f` adding (deleting) the same 1,000 elements to the same map;
 *    (d) `nft -f` of 1,000 per-port DNAT rules in a regular chain (netavark/CNI-portmap style);
 *        removal lists the chain with handles and deletes the rules by handle;
 *    (e) `iptables-restore --noflush` of 1,000 per-port DNAT rules in a custom nat chain
 *        (Docker's style: -A, then -D by rule spec);
 *    and where (b) goes: its host ports, its store rows, the conntrack clean-up of its ports.
 * 2. One more port (add + remove) beside 10 and 10,000 existing ones: an nsbox element, an
 *    element through one `nft` process each, a per-port rule through `nft` (added with
 *    --echo --handle, deleted by handle), an iptables rule (`iptables -t nat -A`, `-D`), and the
 *    same per-port rule through nsbox's nf_tables client (the kernel's share of a rule). Three
 *    rounds of 10 then 10,000, every map and chain refilled from scratch for each level.
 * 3. `nsbox run -p 8080:80 -- true` against `nsbox run -- true` (CLI, interleaved).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Firewall, HostPortHold, type FirewallPort } from '../src/firewall/index.js';
import { Conntrack } from '../src/netlink/conntrack/ops/index.js';
import { Manager } from '../src/managed/index.js';
import { StateRoot } from '../src/managed/root.js';
import { publishLocked, unpublishLocked, type Publication } from '../src/managed/ports.js';
import type { PortMapping } from '../src/managed/port-spec.js';
import { Nft } from '../src/netlink/nftables/ops/index.js';
import {
  NFNL_MSG, NFT_MSG, NFT_REG, decodeRuleMessage, encodeBatchBegin, encodeBatchEnd, encodeRuleMessage, statements as s, type Expr,
} from '../src/netlink/nftables/schema/index.js';
import { NFTABLES, nftMessageType } from '../src/netlink/nftables/family.js';
import { openNetlinkSocket } from '../src/netlink/native-transport.js';
import { NLM_F } from '../src/netlink/wire/header.js';
import { ipv4, port as portBytes, u8 } from '../src/netlink/nftables/schema/values.js';
import { median, run } from './stats.js';

const loadBefore = loadavg()[0]!;
const reps = Number(process.argv[2] ?? 21);
if (!Number.isInteger(reps) || reps < 1) throw new Error(`bad reps ${process.argv[2]}`);
const BULK = 1000;
const TARGET = '10.88.0.2';
const bin = fileURLToPath(new URL('../../bin/nsbox.js', import.meta.url));
const root = mkdtempSync('/run/nsbox-bench-ports-');
process.env.NSBOX_ROOT = root;

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const fmt = (x: number): string => (x >= 100 ? `${x.toFixed(0)} ms` : x >= 1 ? `${x.toFixed(2)} ms` : `${(x * 1000).toFixed(0)} µs`);
function nft(text: string): string { return run('nft', ['-f', '-'], text); }

/** A peer: one timing in ms, or several (a cheap in-process peer measured a few times per turn). */
type Peer = () => Promise<number | number[]>;

/** Times of interleaved peers, added to `out`: each rep runs every peer once, in a rotating order. */
async function interleaved(n: number, peers: Record<string, Peer>, out: Record<string, number[]> = {}): Promise<Record<string, number[]>> {
  const names = Object.keys(peers);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length]!;
      const t = await peers[name]!();
      (out[name] ??= []).push(...(typeof t === 'number' ? [t] : t));
    }
  }
  return out;
}
const times = async (k: number, fn: () => Promise<number>): Promise<number[]> => { const out: number[] = []; for (let i = 0; i < k; i++) out.push(await fn()); return out; };

// ---- set-up: the nsbox table (nsbox0 made through the managed layer), a sandbox on nsbox0 ----
const manager = Manager.open({ root });
await manager.ensureDefaultNetwork();
await manager.createSandbox('pb');
await manager.connect('nsbox0', 'pb');
const fw = Firewall.open();
const noState = () => ({ networks: [], ports: [] });

const fwPort = (hostPort: number): FirewallPort => ({ family: 4, protocol: 'tcp', hostIp: undefined, hostPort, address: TARGET, port: 80, sandbox: 'bench' });
const comment = (p: number): string => `sandbox=bench port=${p}/tcp`;
const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

// nft peers: per-port rules in their own table, reached the way netavark/CNI reach theirs.
nft(`table inet nftrules {
  chain prerouting { type nat hook prerouting priority dstnat; policy accept; fib daddr type local jump published; }
  chain published { }
}`);
const nftRule = (p: number): string => `meta nfproto ipv4 meta l4proto tcp th dport ${p} dnat ip to ${TARGET}:80 comment "${comment(p)}"`;
const nftElement = (p: number): string => `tcp . ${p} comment "${comment(p)}" : ${TARGET} . 80`;
// iptables peer: Docker's layout (a custom nat chain jumped to for local destinations).
run('iptables', ['-t', 'nat', '-N', 'NSBOX-BENCH']);
run('iptables', ['-t', 'nat', '-A', 'PREROUTING', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'NSBOX-BENCH']);
const iptRule = (p: number): string[] => ['!', '-i', 'nsbox0', '-p', 'tcp', '-m', 'tcp', '--dport', String(p), '-j', 'DNAT', '--to-destination', `${TARGET}:80`];
const iptRestore = (op: '-A' | '-D', ports: number[]): string => `*nat\n${ports.map((p) => `${op} NSBOX-BENCH ${iptRule(p).join(' ')}`).join('\n')}\nCOMMIT\n`;

/** The handles of the rules in a chain (`nft -j -a list chain`). */
function ruleHandles(family: string, table: string, chain: string): number[] {
  const out = JSON.parse(run('nft', ['-j', '-a', 'list', 'chain', family, table, chain])) as { nftables: { rule?: { handle: number } }[] };
  return out.nftables.flatMap((o) => (o.rule === undefined ? [] : [o.rule.handle]));
}

// ---- 1. 1,000 published ports, added and removed ----
const bulkPorts = range(20000, BULK);
const bulkFw = bulkPorts.map(fwPort);
const bulkElementsAdd = `add element inet nsbox dnat4_any { ${bulkPorts.map(nftElement).join(',\n')} }\n`;
const bulkElementsDel = `delete element inet nsbox dnat4_any { ${bulkPorts.map((p) => `tcp . ${p}`).join(', ')} }\n`;
const bulkRulesAdd = bulkPorts.map((p) => `add rule inet nftrules published ${nftRule(p)}\n`).join('');
const bulkIptAdd = iptRestore('-A', bulkPorts);
const bulkIptDel = iptRestore('-D', bulkPorts);
const mappings: PortMapping[] = range(30000, BULK).map((hostPort) => ({ protocol: 'tcp', hostIp: undefined, hostPort, port: 80 }));

const stateRoot = new StateRoot({ root });
const bulkAdd: Record<string, number[]> = {};
const bulkDel: Record<string, number[]> = {};
const record = (name: string, add: number, del: number): number => {
  (bulkAdd[name] ??= []).push(add);
  (bulkDel[name] ??= []).push(del);
  return 0;
};
const timed = async (fn: () => unknown): Promise<number> => { const t0 = process.hrtime.bigint(); await fn(); return ms(t0); };

const bulkPeers = {
  a: async () => record('a', await timed(() => fw.publish(bulkFw, noState)), await timed(() => fw.unpublish(bulkFw))),
  b: async () => {
    let pub: Publication | undefined;
    const add = await timed(async () => { pub = await stateRoot.locked('pb', () => publishLocked(stateRoot, stateRoot.record('pb'), mappings)); });
    const del = await timed(async () => { await stateRoot.locked('pb', () => unpublishLocked(stateRoot, 'pb')); pub!.hold.release(); });
    if (pub!.ports.length !== BULK) throw new Error(`published ${pub!.ports.length} ports, not ${BULK}`);
    return record('b', add, del);
  },
  bPublic: async () => {
    // The public API: connect with -p against connect without; disconnect likewise.
    const withPorts = await timed(() => manager.connect('nsbox0', 'pb2', { publish: mappings }));
    const offWith = await timed(() => manager.disconnect('nsbox0', 'pb2'));
    const without = await timed(() => manager.connect('nsbox0', 'pb2'));
    const offWithout = await timed(() => manager.disconnect('nsbox0', 'pb2'));
    return record('bPublic', withPorts - without, offWith - offWithout);
  },
  c: async () => record('c', await timed(() => nft(bulkElementsAdd)), await timed(() => nft(bulkElementsDel))),
  d: async () => record('d', await timed(() => nft(bulkRulesAdd)), await timed(() => {
    nft(ruleHandles('inet', 'nftrules', 'published').map((h) => `delete rule inet nftrules published handle ${h}\n`).join(''));
  })),
  e: async () => record('e', await timed(() => run('iptables-restore', ['--noflush'], bulkIptAdd)), await timed(() => run('iptables-restore', ['--noflush'], bulkIptDel))),
  // Where (b) goes: its host ports, its store rows, and the conntrack clean-up of its 1,000 ports (one deleteWhere).
  hostPorts: async () => {
    let hold: HostPortHold | undefined;
    const add = await timed(() => { hold = HostPortHold.take(mappings.map((m) => ({ protocol: m.protocol, family: 4, hostIp: undefined, hostPort: m.hostPort }))); });
    return record('hostPorts', add, await timed(() => hold!.release()));
  },
  storeRows: async () => {
    const rows = mappings.map((m) => ({ family: 4 as const, protocol: m.protocol, hostIp: '', hostPort: m.hostPort + 10000, sandbox: 'pb', network: 'nsbox0', address: TARGET, port: m.port }));
    const add = await timed(() => { if (stateRoot.ports.insert(rows) !== undefined) throw new Error('rows taken'); stateRoot.ports.setState(rows, 'active'); });
    return record('storeRows', add, await timed(() => { stateRoot.ports.setState(rows, 'removing'); stateRoot.ports.delete(rows); }));
  },
  conntrack: async () => {
    const ports = mappings.map((m) => m.hostPort);
    (ctTimes ??= []).push(await timed(() => ct.deleteWhere({ family: 4, proto: 'tcp', origDstPort: ports, addresses: [TARGET] })));
    return 0;
  },
};
const ct = Conntrack.open();
let ctTimes: number[] | undefined;
await manager.createSandbox('pb2');
// Warm-up (untimed figures dropped): JIT, caches, the first socket of each kind.
for (const f of Object.values(bulkPeers)) await f();
for (const k of Object.keys(bulkAdd)) { bulkAdd[k] = []; bulkDel[k] = []; }
ctTimes = [];
await interleaved(reps, bulkPeers);
const bulkNames: Record<string, string> = {
  a: '(a) nsbox `Firewall.publish`/`unpublish` (one element transaction)',
  b: '(b) nsbox managed `publishLocked`/`unpublishLocked` (host ports, store rows, elements; conntrack on removal)',
  bPublic: "(b') nsbox public API: `Manager.connect -p` minus `connect`; `disconnect` with minus without",
  c: '(c) `nft -f`: the same 1,000 elements into the same map',
  d: '(d) `nft -f`: 1,000 per-port DNAT rules (removal: `nft -j -a list chain` + `delete rule … handle` ×1000)',
  e: '(e) `iptables-restore --noflush`: 1,000 per-port DNAT rules (-A; removal -D by spec)',
};
const partNames: Record<string, string> = {
  hostPorts: 'of (b): 1,000 host ports bound (`HostPortHold.take`) / released',
  storeRows: 'of (b): 1,000 store rows recorded and made active / marked removing and deleted',
};

// ---- 2. one more port at 10 and at 10,000 existing ones ----
// The same per-port rule through nsbox's own nf_tables client, in a table of its own: what the
// kernel charges for a rule, without a process around it.
const nftc = Nft.open();
const RAW = { family: 'inet', table: 'rawrules', chain: 'published' } as const;
const rawRule = (p: number): Expr[] => [
  ...s.nfproto('ipv4'), ...s.match(s.meta('l4proto'), 'eq', u8(6)), ...s.match(s.field('th dport'), 'eq', portBytes(p)),
  { type: 'immediate', dreg: NFT_REG[1], data: ipv4(TARGET) }, { type: 'immediate', dreg: NFT_REG[2], data: portBytes(80) },
  s.natTo('dnat', 'ip', { addrMin: NFT_REG[1], protoMin: NFT_REG[2] }),
];
// Nft's transactions ask for no echo, so the new rule's handle comes back through a batch made
// here from nsbox's codec with NLM_F_ECHO (as `nft -e -a` asks); the delete goes through Nft.
const rawSocket = openNetlinkSocket(NFTABLES, { capAck: true });
async function rawAdd(p: number): Promise<bigint> {
  const newRule = nftMessageType(NFT_MSG.NEWRULE);
  const [, handles] = await rawSocket.requestBatch([
    { type: NFNL_MSG.BATCH_BEGIN, ack: false, body: (w) => encodeBatchBegin(w) },
    {
      type: newRule, flags: NLM_F.CREATE | NLM_F.APPEND | NLM_F.ECHO,
      body: (w) => encodeRuleMessage(w, { ...RAW, expressions: rawRule(p), comment: comment(p) }),
      decode: (m) => (m.type === newRule ? decodeRuleMessage(m.payload).handle : undefined), // NEWGEN is echoed too
    },
    { type: NFNL_MSG.BATCH_END, body: encodeBatchEnd },
  ] as const);
  const h = handles.find((x) => x !== undefined);
  if (h === undefined) throw new Error('no echo of the new rule');
  return h;
}

/** Every peer's map or chain holding exactly the ports 20000 … 20000+n-1 (from scratch). */
async function setLevel(n: number): Promise<void> {
  const ports = range(20000, n);
  await fw.unpublish(range(20000, 10000).map(fwPort));
  await fw.publish(ports.map(fwPort), noState);
  nft(`flush chain inet nftrules published\n${ports.map((p) => `add rule inet nftrules published ${nftRule(p)}\n`).join('')}`);
  run('iptables', ['-t', 'nat', '-F', 'NSBOX-BENCH']);
  for (let i = 0; i < n; i += 2000) run('iptables-restore', ['--noflush'], iptRestore('-A', ports.slice(i, i + 2000)));
  await nftc.transaction().destroyTable({ family: 'inet', name: RAW.table }).addTable({ family: 'inet', name: RAW.table })
    .addChain({ family: 'inet', table: RAW.table, name: RAW.chain }).commit();
  for (let i = 0; i < n; i += 2000) {
    const tx = nftc.transaction();
    for (const p of ports.slice(i, i + 2000)) tx.addRule({ ...RAW, expressions: rawRule(p), comment: comment(p) });
    await tx.commit();
  }
  const counts = {
    element: (await nftc.listElements({ family: 'inet', table: 'nsbox', name: 'dnat4_any' })).length,
    nftRule: ruleHandles('inet', 'nftrules', 'published').length,
    iptables: run('iptables', ['-t', 'nat', '-S', 'NSBOX-BENCH']).split('\n').filter((l) => l.startsWith('-A')).length,
    rawRule: (await nftc.listRules(RAW)).length,
  };
  if (Object.values(counts).some((c) => c !== n)) throw new Error(`expected ${n} existing everywhere, got ${JSON.stringify(counts)}`);
}

const ONE = 50000;
const onePeers = {
  element: () => times(10, () => timed(async () => { await fw.publish([fwPort(ONE)], noState); await fw.unpublish([fwPort(ONE)]); })),
  nftElement: async () => timed(() => {
    run('nft', ['add', 'element', 'inet', 'nsbox', 'dnat4_any', `{ ${nftElement(ONE)} }`]);
    run('nft', ['delete', 'element', 'inet', 'nsbox', 'dnat4_any', `{ tcp . ${ONE} }`]);
  }),
  nftRule: async () => timed(() => {
    const out = run('nft', ['-e', '-a', 'add', 'rule', 'inet', 'nftrules', 'published', ...nftRule(ONE).split(' ')]);
    const h = /# handle (\d+)/.exec(out)?.[1];
    if (h === undefined) throw new Error(`no handle in ${out}`);
    run('nft', ['delete', 'rule', 'inet', 'nftrules', 'published', 'handle', h]);
  }),
  iptables: async () => timed(() => {
    run('iptables', ['-t', 'nat', '-A', 'NSBOX-BENCH', ...iptRule(ONE)]);
    run('iptables', ['-t', 'nat', '-D', 'NSBOX-BENCH', ...iptRule(ONE)]);
  }),
  rawRule: () => times(5, () => timed(async () => {
    const handle = await rawAdd(ONE);
    await nftc.transaction().deleteRule({ ...RAW, handle }).commit();
  })),
};
const oneNames: Record<keyof typeof onePeers, string> = {
  element: 'nsbox element (`Firewall.publish` + `unpublish`, 2 transactions)',
  nftElement: 'element through `nft add element` + `nft delete element` (2 processes)',
  nftRule: 'per-port rule through `nft -e -a add rule` + `nft delete rule … handle` (2 processes)',
  iptables: 'per-port rule through `iptables -t nat -A` + `-D` (2 processes)',
  rawRule: 'per-port rule through nsbox\'s nf_tables client (kernel share; 2 transactions)',
};
// Three rounds, each at 10 then at 10,000, so a slow spell of the machine falls on both levels.
const ROUNDS = 3;
const perRound = Math.ceil(Math.max(reps, 21) / ROUNDS);
const one: Record<number, Record<string, number[]>> = { 10: {}, 10000: {} };
for (let round = 0; round < ROUNDS; round++) {
  for (const level of [10, 10000]) {
    await setLevel(level);
    for (const f of Object.values(onePeers)) await f(); // warm-up
    await interleaved(perRound, onePeers, one[level]);
  }
}
// Empty the peers' chains and the map (the table keeps nsbox0's elements).
await fw.unpublish(range(20000, 10000).map(fwPort));
nft('flush chain inet nftrules published\n');
run('iptables', ['-t', 'nat', '-F', 'NSBOX-BENCH']);
await nftc.transaction().deleteTable({ family: 'inet', name: RAW.table }).commit();
nftc.close();
rawSocket.close();
ct.close();
fw.close();
await manager.removeSandbox('pb');
await manager.removeSandbox('pb2');
manager.close();
stateRoot.close();

// ---- 3. `nsbox run -p` end to end against `nsbox run` ----
const cli = (args: string[]) => () => timed(() => run(process.execPath, [bin, ...args]));
const cliPeers = { plain: cli(['run', '--', 'true']), published: cli(['run', '-p', '8080:80', '--', 'true']) };
for (const f of Object.values(cliPeers)) await f();
const cliTimes = await interleaved(reps, cliPeers);

// Everything the bench made inside the throwaway host goes with it; the iptables chain is removed explicitly anyway.
run('iptables', ['-t', 'nat', '-D', 'PREROUTING', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'NSBOX-BENCH']);
run('iptables', ['-t', 'nat', '-X', 'NSBOX-BENCH']);
nft('delete table inet nftrules\n');

// ---- report ----
const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
const spawnFloor = median(await (async () => { const t: number[] = []; for (let i = 0; i < 21; i++) t.push(await timed(() => run('true', []))); return t; })());
console.log(`\npublished ports — ${new Date().toISOString().slice(0, 10)}, kernel ${kernel}, ${cpus().length} CPUs, Node ${process.version}, ${run('nft', ['--version']).trim()}, ${run('iptables', ['--version']).trim()}`);
console.log(`(one spawnSync of \`true\` from this process: ${fmt(spawnFloor)}; load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after)`);

console.log(`\n### ${BULK} published ports, medians of ${reps} interleaved reps\n`);
console.log('| how | add | remove | add: peer / (a) | remove: peer / (a) | add: peer / (b) | remove: peer / (b) |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
const ma = median(bulkAdd.a!), mda = median(bulkDel.a!), mb = median(bulkAdd.b!), mdb = median(bulkDel.b!);
for (const k of Object.keys(bulkNames)) {
  const add = median(bulkAdd[k]!), del = median(bulkDel[k]!);
  console.log(`| ${bulkNames[k]} | ${fmt(add)} | ${fmt(del)} | ${(add / ma).toFixed(2)}× | ${(del / mda).toFixed(2)}× | ${(add / mb).toFixed(2)}× | ${(del / mdb).toFixed(2)}× |`);
}
console.log(`\nWhere (b) goes (same run, medians of ${reps}):\n`);
console.log('| part | add | remove |');
console.log('|---|---:|---:|');
for (const k of Object.keys(partNames)) console.log(`| ${partNames[k]} | ${fmt(median(bulkAdd[k]!))} | ${fmt(median(bulkDel[k]!))} |`);
const ctOne = median(ctTimes);
console.log(`| of (b): conntrack clean-up of the ${BULK} ports, one \`deleteWhere\` (one dump of the protocol) | | ${fmt(ctOne)} |`);

console.log('\n### one more port (add + remove), beside 10 and 10,000 existing ones\n');
console.log('| how | n | at 10 | at 10,000 | 10,000 / 10 | peer / nsbox at 10 | peer / nsbox at 10,000 |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
const e10 = median(one[10]!.element!), e10k = median(one[10000]!.element!);
for (const k of Object.keys(oneNames) as (keyof typeof onePeers)[]) {
  const a = median(one[10]![k]!), b = median(one[10000]![k]!);
  console.log(`| ${oneNames[k]} | ${one[10]![k]!.length} | ${fmt(a)} | ${fmt(b)} | ${(b / a).toFixed(2)}× | ${(a / e10).toFixed(1)}× | ${(b / e10k).toFixed(1)}× |`);
}

console.log(`\n### end to end, medians of ${reps} interleaved reps\n`);
const plain = median(cliTimes.plain!), published = median(cliTimes.published!);
// Each rep ran both, back to back: the median of the per-rep differences shrugs off slow spells better.
const paired = median(cliTimes.published!.map((x, i) => x - cliTimes.plain![i]!));
console.log('| command | median | minus `nsbox run -- true` | median of the per-rep differences |');
console.log('|---|---:|---:|---:|');
console.log(`| \`nsbox run -- true\` | ${fmt(plain)} | | |`);
console.log(`| \`nsbox run -p 8080:80 -- true\` | ${fmt(published)} | ${fmt(published - plain)} (${(published / plain).toFixed(3)}×) | ${fmt(paired)} |`);

console.log(`\nJSON ${JSON.stringify({ reps, bulkAdd, bulkDel, ctTimes, one, cli: cliTimes, spawnFloor })}`);
