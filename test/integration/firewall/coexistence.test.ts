/**
 * Integration (root, throwaway host): nsbox next to other firewalls, with real traffic. A
 * namespace plays the outside world over a veth (192.0.2.254; the host is 192.0.2.1) and has no
 * route back to the sandboxes, so only masqueraded traffic gets an answer (as in nat.test.ts).
 *
 * iptables-nft (`iptables -P FORWARD DROP` beside rules of the host's own) and an nft table whose
 * forward chain drops: `network create` warns with commands; a sandbox cannot reach the world;
 * `nsbox doctor --json` fails naming the chain and the same commands; after running exactly the
 * printed commands the sandbox reaches the world, the world its published port, and sandboxes
 * of one network each other, while two networks still cannot reach each other; doctor passes;
 * the other firewall's rules are as they were plus what the user added. Docker's, ufw's and
 * firewalld's layouts are built here with iptables and nft (the tools themselves are not
 * installed in the throwaway host) to check that nsbox recognises them and prints their
 * commands; Docker's (real iptables commands) are run and checked with traffic, ufw's and
 * firewalld's are emulated by the rules those tools write. Then `nft flush ruleset`, repaired by
 * `nsbox restore --firewall-only`, and the systemd drop-in that runs it, written to a temporary
 * unit directory. Last, foreign nft tables (sets, a verdict map, a nat chain) and iptables-nft
 * rules (IPv4 and IPv6, a user chain, nat) stay byte for byte (`nft -s list table` of each
 * foreign table, `iptables-nft-save`) across network create/rm, connect/disconnect, port
 * add/rm, run -p, lab up/partition/heal/down, gc and doctor.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST_ADDRESS, WORLD_ADDRESS, makeWorld, type World } from '../../helpers/world.js';
import { NSBOX_BIN, rootForTest, waitForOutput, type NsboxRoot } from '../../helpers/cli.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { clientArgv, serverArgv } from '../../helpers/probe-servers.js';

const HOST = HOST_ADDRESS;
const WORLD = WORLD_ADDRESS;
const WORLD_PORT = 9000;
let world: World;
/** The throwaway host's forwarding before the file (nsbox turns it on for its networks): put back after. */
const FORWARDING = '/proc/sys/net/ipv4/ip_forward';
let forwarding = '';

let nextPort = 20000 + Math.floor(Math.random() * 20000);
const port = (): number => nextPort++;

function sh(command: string): string {
  const res = spawnSync('sh', ['-c', command], { encoding: 'utf8' });
  assert.equal(res.status, 0, `${command}: ${res.stderr}`);
  return res.stdout;
}

/** A probe client in the world namespace. */
function fromWorld(proto: 'tcp' | 'udp', host: string, p: number): string {
  const argv = clientArgv(proto, host, p);
  const res = spawnSync('ip', ['netns', 'exec', world.name, ...argv], { encoding: 'utf8' });
  return `${res.stdout}${res.stderr}`.trim();
}

/** `iptables-save` without its dated comments and counters. */
function iptablesSave(): string[] {
  return sh('iptables-save').split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.replace(/ \[\d+:\d+\]$/, ''));
}

before(async () => {
  forwarding = readFileSync(FORWARDING, 'utf8');
  world = makeWorld();
  await world.serve(serverArgv('world', WORLD_PORT));
});

after(() => {
  world.dispose();
  writeFileSync(FORWARDING, forwarding);
});

/** Whatever iptables-nft holds, gone: rules, chains, the DROP policy, its tables. */
function cleanIptables(t: TestContext): void {
  t.after(() => {
    for (const cmd of ['iptables -F', 'iptables -X', 'iptables -P FORWARD ACCEPT', 'nft delete table ip filter']) spawnSync('sh', ['-c', cmd]);
  });
}

interface Created {
  name: string;
  base: string;
  bridge: string;
  /** The commands the warning printed, in order. */
  commands: string[];
  stderr: string;
}

/** `nsbox network create` (no --json), its warning and the commands in it (the lines indented by four spaces). */
async function createNetwork(r: NsboxRoot): Promise<Created> {
  const s = uniqueSubnet();
  const name = networkName();
  const res = await r.run('network', 'create', name, '--subnet', s.cidr);
  assert.equal(res.code, 0, res.stderr);
  const commands = res.stderr.split('\n').filter((l) => l.startsWith('    ')).map((l) => l.trim());
  return { name, base: s.base, bridge: `nsbr-${name}`, commands, stderr: res.stderr };
}

interface DoctorJson {
  ok: boolean;
  checks: { name: string; status: string; summary: string; details: string[]; fix: string[] }[];
  forward: { chains: { family: string; table: string; chain: string; firewall: string }[]; findings: { network: string; firewall: string; dropped: string[]; unsure: string[]; fix: string[] }[] };
}

/** `nsbox --json doctor`: the report, and the exit code (1 when a check fails, with NSBOX_ERR_DOCTOR). */
async function doctor(r: NsboxRoot): Promise<{ code: number | null; report: DoctorJson }> {
  const res = await r.run('--json', 'doctor');
  if (res.code !== 0) assert.equal(JSON.parse(res.stderr).code, 'NSBOX_ERR_DOCTOR', res.stderr);
  return { code: res.code, report: JSON.parse(res.stdout) as DoctorJson };
}

const forwardCheck = (d: DoctorJson): DoctorJson['checks'][number] => d.checks.find((c) => c.name === 'forward-chains')!;

/** A sandbox of `net` asks the world for its address; the answer, or timeout. */
async function outbound(r: NsboxRoot, net: string): Promise<string> {
  return (await r.run('run', '--network', net, '--', ...clientArgv('tcp', WORLD, WORLD_PORT))).stdout.trim();
}

/**
 * A server sandbox on `net` with a published port: its address and host port. Stopped by the
 * test before it ends (the root's teardown, an earlier hook, removes what is left), or here
 * after a failure.
 */
async function server(t: TestContext, r: NsboxRoot, net: string, label: string): Promise<{ address: string; hostPort: number; stop: () => Promise<void> }> {
  const hostPort = port();
  const name = `${label}${hostPort}`;
  const child = r.start(['run', '--name', name, '--network', net, '-p', `${hostPort}:80`, '--', ...serverArgv(label, 80)]);
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  t.after(stop);
  await waitForOutput(child, 'stdout', 'ready');
  const address = (await r.sandbox(name)).interfaces[0]!.options.ipv4!.split('/')[0]!;
  return { address, hostPort, stop };
}

test('iptables -P FORWARD DROP: a warning with the commands; after exactly those, traffic flows, isolation holds, doctor passes, and iptables holds only what the user added', async (t) => {
  cleanIptables(t);
  // The host's own firewall, set before nsbox: a DROP policy and rules of its own.
  sh('iptables -P FORWARD DROP');
  sh('iptables -N HOSTFW');
  sh('iptables -A FORWARD -p icmp -j ACCEPT');
  sh('iptables -A FORWARD -j HOSTFW');
  sh('iptables -A HOSTFW -s 198.51.100.0/24 -j DROP');
  const before = iptablesSave();
  const r = rootForTest(t);

  const a = await createNetwork(r);
  assert.match(a.stderr, new RegExp(`nsbox: warning: the host's firewall drops traffic of network ${a.name}:`));
  assert.match(a.stderr, /ip filter FORWARD \(iptables-nft; policy drop\) drops new connections out of it, connections to its published ports, replies to its connections, traffic between its sandboxes/);
  assert.deepEqual(a.commands, [
    `iptables -I FORWARD -i ${a.bridge} -j ACCEPT`,
    `iptables -I FORWARD -o ${a.bridge} -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT`,
  ]);
  const quietName = networkName();
  const quiet = await r.run('--json', 'network', 'create', quietName, '--subnet', uniqueSubnet().cidr);
  assert.equal(quiet.code, 0);
  assert.equal(quiet.stderr, '', 'no warning with --json');
  await r.ok('network', 'rm', quietName);

  assert.equal(await outbound(r, a.name), 'timeout', 'the host firewall drops the sandbox\'s traffic');
  const sick = await doctor(r);
  assert.equal(sick.code, 1);
  assert.equal(sick.report.ok, false);
  assert.equal(forwardCheck(sick.report).status, 'fail');
  const finding = sick.report.forward.findings.find((f) => f.network === a.name);
  assert.deepEqual([finding?.firewall, finding?.dropped, finding?.fix], ['iptables', ['outbound', 'published', 'replies', 'within'], a.commands]);

  for (const command of a.commands) sh(command);
  assert.equal(await outbound(r, a.name), `world peer=${HOST}`, 'out, masqueraded');
  const web = await server(t, r, a.name, 'weba');
  assert.equal(fromWorld('tcp', HOST, web.hostPort), `weba peer=${WORLD}`, 'in, to the published port');
  const inside = await r.run('run', '--network', a.name, '--', ...clientArgv('tcp', web.address, 80));
  assert.match(inside.stdout.trim(), /^weba peer=/, 'between sandboxes of the network (br_netfilter shows it to FORWARD)');

  // A second network, let through the same way: the two still cannot reach each other.
  const b = await createNetwork(r);
  for (const command of b.commands) sh(command);
  const db = await server(t, r, b.name, 'dbb');
  assert.equal((await r.run('run', '--network', a.name, '--', ...clientArgv('tcp', db.address, 80))).stdout.trim(), 'timeout', 'A -> B: nsbox still drops it');
  assert.equal((await r.run('run', '--network', b.name, '--', ...clientArgv('tcp', web.address, 80))).stdout.trim(), 'timeout', 'B -> A');

  const well = await doctor(r);
  assert.equal(well.code, 0, JSON.stringify(well.report.checks));
  assert.equal(well.report.ok, true);
  assert.equal(forwardCheck(well.report).status, 'ok');

  // nsbox wrote nothing into iptables: what is new is exactly the user's four rules.
  const afterSave = iptablesSave();
  const added = afterSave.filter((l) => !before.includes(l));
  assert.deepEqual(added.sort(), [
    `-A FORWARD -i ${a.bridge} -j ACCEPT`, `-A FORWARD -i ${b.bridge} -j ACCEPT`,
    `-A FORWARD -o ${a.bridge} -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT`,
    `-A FORWARD -o ${b.bridge} -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT`,
  ].sort());
  assert.deepEqual(before.filter((l) => !afterSave.includes(l)), [], 'and nothing of the host\'s is gone');
  await Promise.all([web.stop(), db.stop()]);
});

test('an nft table whose forward chain drops: the nft commands nsbox prints let the network through; the table is otherwise as it was', async (t) => {
  t.after(() => { spawnSync('nft', ['delete table inet hostfw']); });
  sh(`nft -f - <<'EOF'
table inet hostfw {
  chain forward {
    type filter hook forward priority filter + 10; policy drop;
    meta l4proto icmp accept
    ct state invalid drop
    tcp dport 22 accept
  }
}
EOF`);
  const rules = (): string[] => (JSON.parse(sh('nft -j list table inet hostfw')) as { nftables: { rule?: { expr: unknown } }[] }).nftables
    .flatMap((o) => (o.rule === undefined ? [] : [JSON.stringify(o.rule.expr)]));
  const before = rules();
  const r = rootForTest(t);
  const net = await createNetwork(r);
  assert.match(net.stderr, /inet hostfw forward \(nftables; policy drop\) drops new connections out of it, connections to its published ports, replies to its connections/);
  assert.deepEqual(net.commands, [
    `nft 'insert rule inet hostfw forward iifname "${net.bridge}" accept'`,
    `nft 'insert rule inet hostfw forward oifname "${net.bridge}" ct state established,related accept'`,
    `nft 'insert rule inet hostfw forward oifname "${net.bridge}" ct status dnat accept'`,
  ]);
  assert.equal(await outbound(r, net.name), 'timeout');
  assert.equal((await doctor(r)).code, 1);
  for (const command of net.commands) sh(command);
  assert.equal(await outbound(r, net.name), `world peer=${HOST}`);
  const web = await server(t, r, net.name, 'webn');
  assert.equal(fromWorld('tcp', HOST, web.hostPort), `webn peer=${WORLD}`);
  const other = await createNetwork(r);
  for (const command of other.commands) sh(command);
  assert.equal((await r.run('run', '--network', other.name, '--', ...clientArgv('tcp', web.address, 80))).stdout.trim(), 'timeout', 'isolation holds');
  const well = await doctor(r);
  assert.equal(well.code, 0, JSON.stringify(well.report.checks));
  const now = rules();
  assert.deepEqual(now.filter((x) => !x.includes('nsbr-')), before, 'the host\'s rules, untouched');
  assert.equal(now.length - before.length, 6, 'plus the six the user added');
  await web.stop();
});

test('Docker\'s iptables layout (built here: Docker is not installed): recognised, DOCKER-USER commands printed, and they work', async (t) => {
  cleanIptables(t);
  // Docker 28's FORWARD with one network, docker0 (the link need not exist for the rules).
  for (const c of ['DOCKER', 'DOCKER-USER', 'DOCKER-FORWARD', 'DOCKER-CT', 'DOCKER-BRIDGE', 'DOCKER-ISOLATION-STAGE-1', 'DOCKER-ISOLATION-STAGE-2']) sh(`iptables -N ${c}`);
  for (const rule of [
    '-P FORWARD DROP', '-A FORWARD -j DOCKER-USER', '-A FORWARD -j DOCKER-FORWARD',
    '-A DOCKER-FORWARD -j DOCKER-CT', '-A DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1', '-A DOCKER-FORWARD -j DOCKER-BRIDGE',
    '-A DOCKER-FORWARD -i docker0 -j ACCEPT', '-A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A DOCKER-BRIDGE -o docker0 -j DOCKER', '-A DOCKER ! -i docker0 -o docker0 -j DROP',
    '-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2', '-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP',
  ]) sh(`iptables ${rule}`);
  const r = rootForTest(t);
  const net = await createNetwork(r);
  assert.match(net.stderr, /ip filter FORWARD \(Docker \(iptables\); policy drop\) drops new connections out of it, connections to its published ports, replies to its connections/);
  assert.deepEqual(net.commands, [
    `iptables -I DOCKER-USER -i ${net.bridge} -j ACCEPT`,
    `iptables -I DOCKER-USER -o ${net.bridge} -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT`,
  ]);
  assert.equal(await outbound(r, net.name), 'timeout');
  for (const command of net.commands) sh(command);
  assert.equal(await outbound(r, net.name), `world peer=${HOST}`);
  const web = await server(t, r, net.name, 'webd');
  assert.equal(fromWorld('tcp', HOST, web.hostPort), `webd peer=${WORLD}`);
  assert.equal((await doctor(r)).code, 0);
  await web.stop();
});

test('ufw\'s layout (built with iptables: ufw is not installed): recognised, `ufw route allow` printed; what those write lets the network through', async (t) => {
  cleanIptables(t);
  const chains = ['ufw-before-logging-forward', 'ufw-before-forward', 'ufw-after-forward', 'ufw-after-logging-forward', 'ufw-reject-forward', 'ufw-track-forward', 'ufw-user-forward'];
  for (const c of chains) sh(`iptables -N ${c}`);
  sh('iptables -P FORWARD DROP');
  for (const c of chains.slice(0, 6)) sh(`iptables -A FORWARD -j ${c}`);
  for (const rule of [
    '-A ufw-before-forward -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A ufw-before-forward -p icmp --icmp-type echo-request -j ACCEPT',
    '-A ufw-before-forward -j ufw-user-forward',
    '-A ufw-after-logging-forward -m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix "[UFW BLOCK] "',
  ]) sh(`iptables ${rule}`);
  const r = rootForTest(t);
  const net = await createNetwork(r);
  assert.match(net.stderr, /ip filter FORWARD \(ufw; policy drop\) drops new connections out of it, connections to its published ports, traffic between its sandboxes/);
  assert.deepEqual(net.commands, [`ufw route allow in on ${net.bridge}`, `ufw route allow out on ${net.bridge}`]);
  assert.equal(await outbound(r, net.name), 'timeout');
  // What `ufw route allow in|out on BRIDGE` adds to user.rules.
  sh(`iptables -A ufw-user-forward -i ${net.bridge} -j ACCEPT`);
  sh(`iptables -A ufw-user-forward -o ${net.bridge} -j ACCEPT`);
  assert.equal(await outbound(r, net.name), `world peer=${HOST}`);
  assert.equal((await doctor(r)).code, 0);
});

test('firewalld\'s layout (built with nft: firewalld is not installed): recognised, firewall-cmd printed; the trusted zone it makes lets the network out', async (t) => {
  t.after(() => { spawnSync('nft', ['delete table inet firewalld']); });
  sh(`nft -f - <<'EOF'
table inet firewalld {
  chain filter_FORWARD {
    type filter hook forward priority filter + 10; policy accept;
    ct state { established, related } accept
    ct status dnat accept
    iifname "lo" accept
    ct state invalid drop
    jump filter_FORWARD_POLICIES
    reject with icmpx admin-prohibited
  }
  chain filter_FORWARD_POLICIES {
    iifname "eth9" oifname "eth9" jump filter_FWD_public
  }
  chain filter_FWD_public {
    return
  }
  chain filter_FWD_trusted {
    accept
  }
}
EOF`);
  const r = rootForTest(t);
  const net = await createNetwork(r);
  assert.match(net.stderr, /inet firewalld filter_FORWARD \(firewalld; chain filter_FORWARD rule \d+\) drops new connections out of it, traffic between its sandboxes of network/);
  assert.deepEqual(net.commands, [
    `firewall-cmd --zone=trusted --add-interface=${net.bridge}`,
    `firewall-cmd --permanent --zone=trusted --add-interface=${net.bridge}`,
  ]);
  assert.match(await outbound(r, net.name), /^error |^timeout$/, 'rejected');
  // What the trusted zone adds for the interface.
  sh(`nft insert rule inet firewalld filter_FORWARD_POLICIES iifname "${net.bridge}" goto filter_FWD_trusted`);
  assert.equal(await outbound(r, net.name), `world peer=${HOST}`);
  assert.equal((await doctor(r)).code, 0);
});

test('Docker 29\'s nftables tables (built with nft): recognised, and their policy-accept forward chain with verdict maps drops nothing of nsbox\'s', async (t) => {
  t.after(() => { spawnSync('nft', ['delete table ip docker-bridges']); });
  sh(`nft -f - <<'EOF'
table ip docker-bridges {
  map filter-forward-in-jumps { type ifname : verdict; elements = { "docker0" : jump filter-forward-in__docker0 } }
  map filter-forward-out-jumps { type ifname : verdict; elements = { "docker0" : jump filter-forward-out__docker0 } }
  chain filter-FORWARD {
    type filter hook forward priority filter; policy accept;
    oifname vmap @filter-forward-in-jumps
    iifname vmap @filter-forward-out-jumps
  }
  chain filter-forward-in__docker0 {
    ct state established,related accept
    iifname "docker0" accept
    counter drop comment "UNPUBLISHED PORT DROP"
  }
  chain filter-forward-out__docker0 {
    ct state established,related accept
    accept
  }
}
EOF`);
  const r = rootForTest(t);
  const net = await createNetwork(r);
  assert.deepEqual(net.commands, [], 'no warning');
  const { code, report } = await doctor(r);
  assert.equal(code, 0, JSON.stringify(report.checks));
  assert.deepEqual(report.forward.chains.map((c) => [c.family, c.table, c.chain, c.firewall]), [['ip', 'docker-bridges', 'filter-FORWARD', 'docker-nftables']]);
  assert.equal(await outbound(r, net.name), `world peer=${HOST}`);
});

test('after `nft flush ruleset`: doctor says so, `nsbox restore --firewall-only` rebuilds the table from the store (a published port works again), a second run changes nothing; the drop-in runs exactly that', async (t) => {
  const r = rootForTest(t);
  const net = await createNetwork(r);
  assert.deepEqual(net.commands, []);
  const web = await server(t, r, net.name, 'webf');
  assert.equal(fromWorld('tcp', HOST, web.hostPort), `webf peer=${WORLD}`);
  sh('nft flush ruleset');
  assert.notEqual(fromWorld('tcp', HOST, web.hostPort), `webf peer=${WORLD}`, 'the table is gone');
  const sick = await doctor(r);
  const table = sick.report.checks.find((c) => c.name === 'table')!;
  assert.deepEqual([sick.code, table.status, table.fix], [1, 'fail', [`nsbox --root ${r.root} restore --firewall-only`]]);
  const restored = await r.json<{ name: string; status: string }[]>('restore', '--firewall-only');
  assert.deepEqual(restored.map((o) => [o.name, o.status]), [['firewall inet nsbox', 'recreated']]);
  assert.equal(fromWorld('tcp', HOST, web.hostPort), `webf peer=${WORLD}`, 'the published port, from the store');
  assert.deepEqual(await r.json('restore', '--firewall-only'), [], 'in sync');
  assert.equal((await r.run('restore', '--firewall-only')).stdout, 'firewall table in sync\n');
  assert.equal((await doctor(r)).code, 0);

  const units = mkdtempSync(join(tmpdir(), 'nsbt-units-'));
  t.after(() => rmSync(units, { recursive: true, force: true }));
  const hook = await r.json<{ path: string; written: boolean }>('firewall', 'install-hook', '--unit-dir', units);
  assert.deepEqual(hook, { path: join(units, 'nftables.service.d', 'nsbox.conf'), written: true, content: readFileSync(hook.path, 'utf8') });
  assert.match(readFileSync(hook.path, 'utf8'), new RegExp(`^ExecStartPost=-/usr/bin/env nsbox --root ${r.root} restore --firewall-only$`, 'm'));
  assert.match(readFileSync(hook.path, 'utf8'), new RegExp(`^ExecReload=-/usr/bin/env nsbox --root ${r.root} restore --firewall-only$`, 'm'));
  assert.equal((await r.run('firewall', 'install-hook', '--unit-dir', units)).stdout, `${hook.path} is up to date\n`);
  // What the drop-in's command does, run as systemd would after `nft -f /etc/nftables.conf`.
  sh('nft flush ruleset');
  const line = /^ExecStartPost=-(.*)$/m.exec(readFileSync(hook.path, 'utf8'))![1]!.replace('/usr/bin/env nsbox', `${process.execPath} ${NSBOX_BIN}`);
  sh(line);
  assert.equal(fromWorld('tcp', HOST, web.hostPort), `webf peer=${WORLD}`);
  await web.stop();
});

/** The tables nsbox owns (layout.ts, fault-table.ts, overlay/dataplane/allowlist.ts). */
const NSBOX_TABLES = new Set(['inet nsbox', 'inet nsbox_fault', 'inet nsbox_overlay']);

/** Every other table, as `nft -s list table` prints it (stateless: no counters), in `nft list tables` order. */
function foreignRuleset(): string {
  const tables = sh('nft list tables').split('\n').filter((l) => l.startsWith('table ')).map((l) => l.slice('table '.length));
  return tables.filter((tb) => !NSBOX_TABLES.has(tb)).map((tb) => sh(`nft -s list table ${tb}`)).join('');
}

/** `iptables-nft-save` (IPv4 and IPv6) without its dated comments and counters. */
function iptablesNftSave(): string {
  return ['iptables-nft-save', 'ip6tables-nft-save'].map((cmd) => sh(cmd).split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/ \[\d+:\d+\]$/, '')).join('\n')).join('\n');
}

test('foreign nf_tables tables and iptables-nft rules stay byte for byte through every nsbox command that writes nf_tables', async (t) => {
  cleanIptables(t);
  t.after(() => {
    for (const cmd of ['nft delete table inet hostfw', 'nft delete table ip hostnat', 'iptables -t nat -F', 'nft delete table ip nat', 'ip6tables -F', 'nft delete table ip6 filter']) spawnSync('sh', ['-c', cmd]);
  });
  const nftFile = join(mkdtempSync(join(tmpdir(), 'nsbt-fw-')), 'foreign.nft');
  writeFileSync(nftFile, `table inet hostfw {
  set allowed {
    type ipv4_addr
    flags interval
    elements = { 198.51.100.0/24, 203.0.113.7 }
  }
  map ports {
    type inet_service : verdict
    elements = { 2222 : accept }
  }
  chain input {
    type filter hook input priority 10; policy accept;
    ip saddr @allowed counter accept comment "allowed hosts"
    tcp dport vmap @ports
  }
  chain hostforward {
    type filter hook forward priority 10; policy accept;
    ct state established,related counter accept
  }
}
table ip hostnat {
  chain post {
    type nat hook postrouting priority 110; policy accept;
    ip saddr 198.51.100.0/24 oifname "nsbt-none" masquerade
  }
}
`);
  sh(`nft -f ${nftFile}`);
  rmSync(join(nftFile, '..'), { recursive: true, force: true });
  for (const cmd of [
    'iptables -A INPUT -p tcp --dport 2222 -m comment --comment host-ssh -j ACCEPT',
    'iptables -N HOSTCHAIN', 'iptables -A HOSTCHAIN -s 198.51.100.0/24 -j RETURN', 'iptables -A FORWARD -j HOSTCHAIN',
    'iptables -t nat -A POSTROUTING -s 198.51.100.0/24 -o nsbt-none -j MASQUERADE',
    'ip6tables -A INPUT -p tcp --dport 2222 -j ACCEPT',
  ]) sh(cmd);
  const nftBefore = foreignRuleset();
  const iptBefore = iptablesNftSave();
  for (const part of ['table inet hostfw', 'table ip hostnat', 'table ip filter', 'table ip nat', 'table ip6 filter']) assert.ok(nftBefore.includes(part), `${part} in ${nftBefore}`);
  assert.match(iptBefore, /-A HOSTCHAIN -s 198\.51\.100\.0\/24 -j RETURN/);

  const r = rootForTest(t);
  const steps: string[] = [];
  const ok = async (...args: string[]): Promise<string> => {
    steps.push(args.join(' '));
    return r.ok(...args);
  };
  const net = await createNetwork(r);
  steps.push('network create');
  const name = `fw${port()}`;
  await ok('create', name);
  await ok('connect', net.name, name);
  const p = port();
  await ok('port', 'add', name, `${p}:80`);
  await ok('port', 'rm', name, `${p}/tcp`);
  await ok('disconnect', net.name, name);
  await ok('run', '--network', net.name, '-p', `${port()}:80`, '--', 'true');
  const web = await server(t, r, net.name, 'web');
  assert.match(fromWorld('tcp', HOST, web.hostPort), /^web peer=/, 'a published port works beside the foreign rules');
  await web.stop();

  const lab = `fwl${port()}`;
  const lan = uniqueSubnet();
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-fwlab-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'lab.yaml');
  writeFileSync(file, `lab: ${lab}\nnetworks:\n  lan: { subnet: ${lan.cidr} }\nnodes:\n  a:\n    interfaces: { eth0: { network: lan, address: ${lan.base}2/24 } }\n  b:\n    interfaces: { eth0: { network: lan, address: ${lan.base}3/24 } }\n`);
  await ok('lab', 'up', '-f', file);
  await ok('lab', 'partition', lab, 'a', 'b');
  await ok('lab', 'heal', lab);
  await ok('lab', 'down', lab);
  await ok('rm', name);
  await ok('gc');
  steps.push('doctor');
  await doctor(r);
  await ok('network', 'rm', net.name);
  await ok('gc');

  assert.equal(foreignRuleset(), nftBefore, `the foreign tables after: ${steps.join('; ')}`);
  assert.equal(iptablesNftSave(), iptBefore, `iptables-nft-save after: ${steps.join('; ')}`);
});
