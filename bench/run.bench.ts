/**
 * Benchmark: the cold start of the CLI (issue 17). Side by side in one run, the commands
 * interleaved round by round (so a load change hits all alike): `nsbox run -- true` (a fresh
 * sandbox on the default bridge network, the command, cleanup) through the `nsbox` launcher,
 * with NODE_EXTRA_CA_CERTS moved aside (its default) and kept (NSBOX_KEEP_NODE_ENV=1), and
 * without the code cache; a shell script doing the same with iproute2 (netns, veth, bridge
 * port, address, route, run, cleanup); `unshare -n true`; `node -e 0` with and without
 * NODE_EXTRA_CA_CERTS; and `nsbox ls`, `inspect`, `create NAME`, `rm NAME`, `exec NAME -- true`,
 * `version`, `--version`; and `nsbox run -- true` and `exec` handed to a running `nsbox agent`
 * (its CPU counted with the client's) by the native client (bin/nsbox → nsbox-handoff) and by
 * the Node one (`node bin/nsbox.js`), and `ls`, `inspect`, `create`, `rm` run by the agent for the
 * native client. Then the phases of `nsbox run -- true` (NSBOX_TRACE_STARTUP=1,
 * src/trace.ts), medians. Then a new user's loop, as the issue tried it: LOOP `nsbox create`
 * calls one after another on a fresh root with NSBOX_AGENT unset (the first starts an agent on
 * demand, src/agent/on-demand.ts), then LOOP `nsbox run -- true`, and LOOP `ip netns add`; and
 * the first call on a fresh root starting an agent on demand or not (NSBOX_AGENT=running),
 * interleaved. CPU is the children's user + system time (/proc/self/stat cutime +
 * cstime, 10 ms ticks: a mean over the reps), steadier than wall time on a loaded machine.
 * Each measured call starts after a pause (SETTLE_MS) that lets the kernel finish cleaning up
 * what the previous one destroyed. Runs inside the throwaway host made by scripts/run-bench.js. `npm run bench -- run [reps]`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { median } from './stats.js';

const reps = Number(process.argv[2] ?? 21);
const launcher = fileURLToPath(new URL('../../bin/nsbox', import.meta.url));
/** The CLI started by Node directly (tests, scripts): its run and exec use the Node hand-off client. */
const nodeEntry = fileURLToPath(new URL('../../bin/nsbox.js', import.meta.url));
const root = mkdtempSync('/run/nsbox-bench-');
const CA = process.env.NODE_EXTRA_CA_CERTS ?? (existsSync('/etc/ssl/certs/ca-certificates.crt') ? '/etc/ssl/certs/ca-certificates.crt' : undefined);
const withCa: NodeJS.ProcessEnv = { ...process.env, NSBOX_ROOT: root, ...(CA === undefined ? {} : { NODE_EXTRA_CA_CERTS: CA }) };
const noCa: NodeJS.ProcessEnv = { ...withCa };
delete noCa.NODE_EXTRA_CA_CERTS;

const IP_SCRIPT = `set -e
n=ipr$$
ip netns add $n
ip link add v$$ type veth peer name eth0 netns $n
ip link set v$$ master ipbr0 up
ip -n $n link set lo up
ip -n $n link set eth0 up
ip -n $n addr add 10.87.0.2/16 dev eth0
ip -n $n route add default via 10.87.0.1
ip netns exec $n true
ip netns del $n
`;
const scriptPath = `${root}/ip-run.sh`;
writeFileSync(scriptPath, IP_SCRIPT);

function sh(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = noCa): string {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stderr;
}
sh('ip', ['link', 'add', 'ipbr0', 'type', 'bridge']);
sh('ip', ['addr', 'add', '10.87.0.1/16', 'dev', 'ipbr0']);
sh('ip', ['link', 'set', 'ipbr0', 'up']);

/** The children's CPU time so far (user + system of every reaped child), in ms. */
function childCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10; // cutime, cstime (fields 16, 17), USER_HZ = 100
}

interface Row {
  name: string;
  /** One timed call; `i` is the round. */
  call: (i: number) => void;
  /** Untimed, before each call (e.g. the sandbox `rm` removes). */
  before?: (i: number) => void;
  wall: number[];
  cpu: number;
  /** CPU time spent for the call by a process that is not a child (the agent), in ms so far. */
  otherCpu?: () => number;
}
const nsbox = (args: readonly string[], env: NodeJS.ProcessEnv = withCa) => (): void => { sh(launcher, args, env); };
const row = (name: string, call: (i: number) => void, before?: (i: number) => void): Row => ({ name, call, before, wall: [], cpu: 0 });

// A sandbox for inspect and exec; create/rm work on names of their own.
sh(launcher, ['create', 'bench-x'], withCa);

// `nsbox agent` on a socket of its own: only the row that names it (NSBOX_AGENT_SOCKET) hands
// its runs to it (src/cli/run-handoff.ts); the other rows find no ROOT/agent.sock.
const agentDir = `${root}-agent`;
mkdirSync(agentDir, { mode: 0o700 });
const agentSocket = `${agentDir}/agent.sock`;
const agent = spawn(process.execPath, [fileURLToPath(new URL('../../bin/nsbox.cjs', import.meta.url)), 'agent', '--socket', agentSocket], { stdio: ['ignore', 'ignore', 'pipe'], env: noCa });
await new Promise<void>((resolve, reject) => {
  let log = '';
  agent.stderr!.setEncoding('utf8').on('data', (d: string) => { log += d; if (log.includes('listening on')) resolve(); });
  agent.once('exit', (code) => reject(new Error(`nsbox agent exited (${code}): ${log}`)));
});
/** A process's user + system time so far, in ms. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // utime, stime (fields 14, 15)
}
const agentCpuMs = (): number => processCpuMs(agent.pid!);
const rows: Row[] = [
  row('`nsbox run -- true` (launcher: NODE_EXTRA_CA_CERTS moved aside)', nsbox(['run', '--', 'true'])),
  row('`nsbox run -- true`, NODE_EXTRA_CA_CERTS kept (NSBOX_KEEP_NODE_ENV=1)', nsbox(['run', '--', 'true'], { ...withCa, NSBOX_KEEP_NODE_ENV: '1' })),
  row('`nsbox run -- true`, no code cache (NSBOX_CODE_CACHE=0)', nsbox(['run', '--', 'true'], { ...withCa, NSBOX_CODE_CACHE: '0' })),
  { ...row('`nsbox run -- true` handed to `nsbox agent` (native client; CPU: client + agent)', nsbox(['run', '--', 'true'], { ...withCa, NSBOX_AGENT_SOCKET: agentSocket })), otherCpu: agentCpuMs },
  { ...row('`node bin/nsbox.js run -- true` handed to `nsbox agent` (Node client; CPU: client + agent)', () => { sh(process.execPath, [nodeEntry, 'run', '--', 'true'], { ...noCa, NSBOX_AGENT_SOCKET: agentSocket }); }), otherCpu: agentCpuMs },
  row('iproute2 script (netns, veth, port, addr, route, exec, del)', () => { sh('sh', [scriptPath]); }),
  row('`unshare -n true`', () => { sh('unshare', ['-n', 'true']); }),
  row('`node -e 0`', () => { sh(process.execPath, ['-e', '0'], noCa); }),
  row('`node -e 0` with NODE_EXTRA_CA_CERTS', () => { sh(process.execPath, ['-e', '0'], withCa); }),
  row('`nsbox ls` (1 sandbox)', nsbox(['ls'])),
  row('`nsbox ls`, NSBOX_AGENT=0 (the launcher straight to Node: no native client, no socket tried)', nsbox(['ls'], { ...withCa, NSBOX_AGENT: '0' })),
  row('`nsbox inspect NAME`', nsbox(['inspect', 'bench-x'])),
  row('`nsbox create NAME`', (i) => { sh(launcher, ['create', `bench-c${i}`], withCa); }),
  row('`nsbox rm NAME`', (i) => { sh(launcher, ['rm', `bench-r${i}`], withCa); }, (i) => { sh(launcher, ['create', `bench-r${i}`], withCa); }),
  { ...row('`nsbox ls` handed to `nsbox agent` (CPU: client + agent)', nsbox(['ls'], { ...withCa, NSBOX_AGENT_SOCKET: agentSocket })), otherCpu: agentCpuMs },
  { ...row('`nsbox inspect NAME` handed to `nsbox agent` (CPU: client + agent)', nsbox(['inspect', 'bench-x'], { ...withCa, NSBOX_AGENT_SOCKET: agentSocket })), otherCpu: agentCpuMs },
  { ...row('`nsbox create NAME` handed to `nsbox agent` (CPU: client + agent)', (i) => { sh(launcher, ['create', `bench-ca${i}`], { ...withCa, NSBOX_AGENT_SOCKET: agentSocket }); }), otherCpu: agentCpuMs },
  {
    ...row('`nsbox rm NAME` handed to `nsbox agent` (CPU: client + agent)', (i) => { sh(launcher, ['rm', `bench-ra${i}`], { ...withCa, NSBOX_AGENT_SOCKET: agentSocket }); }, (i) => { sh(launcher, ['create', `bench-ra${i}`], withCa); }),
    otherCpu: agentCpuMs,
  },
  row('`nsbox exec NAME -- true`', nsbox(['exec', 'bench-x', '--', 'true'])),
  { ...row('`nsbox exec NAME -- true` handed to `nsbox agent` (native client; CPU: client + agent)', nsbox(['exec', 'bench-x', '--', 'true'], { ...withCa, NSBOX_AGENT_SOCKET: agentSocket })), otherCpu: agentCpuMs },
  { ...row('`node bin/nsbox.js exec NAME -- true` handed to `nsbox agent` (Node client; CPU: client + agent)', () => { sh(process.execPath, [nodeEntry, 'exec', 'bench-x', '--', 'true'], { ...noCa, NSBOX_AGENT_SOCKET: agentSocket }); }), otherCpu: agentCpuMs },
  row('`nsbox version`', nsbox(['version'])),
  row('`nsbox --version` (answered by the sh launcher)', nsbox(['--version'])),
];

// Warm-up: nsbox0 is made on the first run, each command's code cache written on its first call.
for (const r of rows) { r.before?.(-1); r.call(-1); }
/**
 * A pause before each measured call: the kernel cleans up the namespaces a call destroyed (its
 * own, `ip netns del`'s, `unshare -n`'s) in the background after the call returned (cleanup_net,
 * RCU grace periods: ~20 ms here), and without the pause that work was charged to whichever
 * row ran next (two rows running the same `nsbox ls` differed by 20% in one run).
 */
const SETTLE_MS = 60;
const settle = (): void => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SETTLE_MS); };
for (let i = 0; i < reps; i++) {
  for (const r of rows) {
    r.before?.(i);
    settle();
    const c0 = childCpuMs() + (r.otherCpu?.() ?? 0);
    const t0 = process.hrtime.bigint();
    r.call(i);
    r.wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    r.cpu += childCpuMs() + (r.otherCpu?.() ?? 0) - c0;
  }
  sh(launcher, ['rm', `bench-c${i}`, `bench-ca${i}`], withCa);
}

// The phases of `nsbox run -- true`: NSBOX_TRACE_STARTUP=1 lines, medians per phase.
const phases = new Map<string, number[]>();
for (let i = 0; i < reps; i++) {
  const err = sh(launcher, ['run', '--', 'true'], { ...withCa, NSBOX_TRACE_STARTUP: '1' });
  for (const m of err.matchAll(/^nsbox-trace +([\d.]+) ms {2}(.*)$/gm)) {
    const list = phases.get(m[2]!) ?? [];
    list.push(Number(m[1]));
    phases.set(m[2]!, list);
  }
}
sh(launcher, ['rm', 'bench-x', 'bench-c-1', 'bench-ca-1'], withCa);
const agentGone = new Promise((resolve) => agent.once('exit', resolve));
agent.kill('SIGTERM');
await agentGone;

// A new user's loop on a fresh root, NSBOX_AGENT unset: the first call starts an agent on demand.
const LOOP = Number(process.env.NSBOX_BENCH_LOOP ?? 200);
const onDemand: NodeJS.ProcessEnv = { ...withCa, NSBOX_AGENT: 'auto' };
const timed = (fn: () => void): number => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
/** Stop the on-demand agent of `dir` (its pid file) and wait for it to go; its CPU time (user + system) in ms. */
async function stopOnDemand(dir: string): Promise<number> {
  let pid: number;
  let cpu = 0;
  try {
    pid = Number(readFileSync(`${dir}/agent.sock.on-demand`, 'utf8'));
  } catch {
    return cpu;
  }
  try {
    cpu = processCpuMs(pid);
    process.kill(pid, 'SIGTERM');
    while (existsSync(`/proc/${pid}`)) await new Promise((r) => setTimeout(r, 10));
  } catch {
    // gone
  }
  return cpu;
}
const loopRoot = mkdtempSync('/run/nsbox-bench-loop-');
const loopEnv = { ...onDemand, NSBOX_ROOT: loopRoot };
const loops: Record<string, number[]> = { create: [], run: [], ipNetnsAdd: [] };
for (let i = 0; i < LOOP; i++) loops.create!.push(timed(() => sh(launcher, ['create', `bench-u${i}`], loopEnv)));
for (let i = 0; i < LOOP; i++) loops.run!.push(timed(() => sh(launcher, ['run', '--', 'true'], loopEnv)));
const loopAgentCpu = await stopOnDemand(loopRoot);
sh(launcher, ['rm', '--all'], { ...loopEnv, NSBOX_AGENT: 'running' });
for (let i = 0; i < LOOP; i++) loops.ipNetnsAdd!.push(timed(() => sh('ip', ['netns', 'add', `bench-ip${i}`])));
for (let i = 0; i < LOOP; i++) sh('ip', ['netns', 'del', `bench-ip${i}`]);
// The first call on a fresh root: what starting the agent costs the call that starts it.
const firstCalls: Record<string, number[]> = { auto: [], running: [] };
for (let i = 0; i < Math.max(7, Math.ceil(reps / 3)); i++) {
  for (const mode of ['auto', 'running'] as const) {
    const dir = mkdtempSync('/run/nsbox-bench-first-');
    sh(launcher, ['ls'], { ...withCa, NSBOX_ROOT: dir, NSBOX_AGENT: 'running' }); // the root made
    settle();
    firstCalls[mode]!.push(timed(() => sh(launcher, ['create', 'bench-f'], { ...withCa, NSBOX_ROOT: dir, NSBOX_AGENT: mode })));
    await stopOnDemand(dir);
    sh(launcher, ['rm', 'bench-f'], { ...withCa, NSBOX_ROOT: dir, NSBOX_AGENT: 'running' });
  }
}

const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
const byName = (prefix: string): number => median(rows.find((r) => r.name.startsWith(prefix))!.wall);
const ip = byName('iproute2');
const node0 = byName('`node -e 0`');
console.log(`\ncold start — ${new Date().toISOString().slice(0, 10)}, kernel ${kernel}, ${cpus().length} CPUs, Node ${process.version}, medians of ${reps} interleaved rounds, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`NODE_EXTRA_CA_CERTS for the "with" rows: ${CA ?? '(none on this machine)'}`);
console.log('Rows not "handed to `nsbox agent`" find no agent (NSBOX_AGENT=running, as the benchmark runner sets: none is started on demand).');
console.log('| command | wall (median) | CPU (mean) | vs iproute2 script | vs `node -e 0` |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  const w = median(r.wall);
  console.log(`| ${r.name} | ${w.toFixed(1)} ms | ${(r.cpu / reps).toFixed(1)} ms | ${(w / ip).toFixed(2)}× | ${(w / node0).toFixed(2)}× |`);
}
console.log('\nphases of `nsbox run -- true` (NSBOX_TRACE_STARTUP=1; ms since the previous phase, medians)');
console.log('| phase | ms |');
console.log('|---|---:|');
for (const [name, list] of phases) console.log(`| ${name} | ${median(list).toFixed(2)} |`);
const sum = (l: number[]): number => l.reduce((a, b) => a + b, 0);
console.log(`\na new user's loop: ${LOOP} calls one after another on a fresh root, NSBOX_AGENT unset (the first starts an agent on demand)`);
console.log('| loop | total | first call | calls 2–5 | median of calls 6– | vs its target\'s reference (medians of the table above) |');
console.log('|---|---:|---:|---:|---:|---:|');
const loopRows: [string, number[], string, number][] = [
  ['`nsbox create NAME`', loops.create!, '`node -e 0`', node0],
  ['`nsbox run -- true`', loops.run!, 'the iproute2 script', ip],
  ['`ip netns add NAME`', loops.ipNetnsAdd!, '`node -e 0`', node0],
];
for (const [label, list, refName, ref] of loopRows) {
  const rest = median(list.slice(5));
  console.log(`| ${label} | ${(sum(list) / 1000).toFixed(2)} s | ${list[0]!.toFixed(1)} ms | ${list.slice(1, 5).map((x) => x.toFixed(0)).join(', ')} ms | ${rest.toFixed(1)} ms | ${(rest / ref).toFixed(2)}× ${refName} |`);
}
console.log(`the on-demand agent's own CPU over both loops: ${loopAgentCpu} ms (user + system; not in the wall times above, which are what the caller waits)`);
console.log(`\nthe first \`nsbox create\` on a fresh root (medians of ${firstCalls.auto!.length}, interleaved): starting an agent on demand ${median(firstCalls.auto!).toFixed(1)} ms, NSBOX_AGENT=running ${median(firstCalls.running!).toFixed(1)} ms`);
console.log(`\nJSON ${JSON.stringify(Object.fromEntries(rows.map((r) => [r.name, median(r.wall)])))}`);
