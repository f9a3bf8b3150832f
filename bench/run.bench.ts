/**
 * Benchmark: the end-to-end time of `nsbox run -- true` (a fresh sandbox on the default
 * bridge network, the command, cleanup), side by side in one run with `unshare -n true` and
 * with a shell script doing the same with iproute2 (netns, veth, bridge port, address,
 * route, run, cleanup); and the cold start of `nsbox --version` against `node -e 0`.
 * Runs inside the throwaway host made by scripts/run-bench.js. `npm run bench -- run [reps]`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { median } from './stats.js';

const reps = Number(process.argv[2] ?? 30);
const bin = fileURLToPath(new URL('../../bin/nsbox.js', import.meta.url));
const launcher = fileURLToPath(new URL('../../bin/nsbox', import.meta.url));
const root = mkdtempSync('/run/nsbox-bench-');
const env = { ...process.env, NSBOX_ROOT: root };

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
const sh = (cmd: string, args: string[]): void => {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
};
sh('ip', ['link', 'add', 'ipbr0', 'type', 'bridge']);
sh('ip', ['addr', 'add', '10.87.0.1/16', 'dev', 'ipbr0']);
sh('ip', ['link', 'set', 'ipbr0', 'up']);

function timeMs(cmd: string, args: string[]): number {
  const times: number[] = [];
  sh(cmd, args); // warm-up (and nsbox0 gets created on first use)
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    sh(cmd, args);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

const rows: [string, number][] = [
  ['`nsbox run -- true`', timeMs(process.execPath, [bin, 'run', '--', 'true'])],
  ['`unshare -n true`', timeMs('unshare', ['-n', 'true'])],
  ['iproute2 script (netns, veth, port, addr, route, exec, del)', timeMs('sh', [scriptPath])],
  ['`nsbox --version` (the bin launcher, cold start)', timeMs(launcher, ['--version'])],
  ['`nsbox version` (through Node)', timeMs(launcher, ['version'])],
  ['`node -e 0`', timeMs(process.execPath, ['-e', '0'])],
];
const base = rows[0]![1];
const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
console.log(`\nend-to-end — ${new Date().toISOString().slice(0, 10)}, kernel ${kernel}, ${cpus().length} CPUs, Node ${process.version}, median of ${reps}`);
console.log('| command | median | vs `nsbox run -- true` |');
console.log('|---|---:|---:|');
for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(1)} ms | ${(ms / base).toFixed(2)}× |`);
console.log(`\nJSON ${JSON.stringify(Object.fromEntries(rows.map(([k, v]) => [k, v])))}`);
