/**
 * Benchmark: what names cost. With N sandboxes on a bridge network (default 200), the time of
 * one more sandbox's `connect` + `disconnect` (each rewrites the hosts file of every sandbox on
 * the network) against the same on a network of its own, a names refresh of the whole network
 * when nothing changed (every file read and compared, none written), and the one `exec` does
 * (one sandbox's two files, unchanged). Through the
 * Manager in this process, inside the throwaway host made by scripts/run-bench.js.
 * `npm run bench -- names [N] [reps]`.
 */
import { mkdtempSync } from 'node:fs';
import { Manager } from '../src/managed/index.js';
import { StateRoot } from '../src/managed/root.js';
import { refreshNames } from '../src/managed/names.js';
import { timeUs } from './stats.js';

const peers = Number(process.argv[2] ?? 200);
const reps = Number(process.argv[3] ?? 30);
const dir = mkdtempSync('/run/nsbox-bench-names-');
const m = Manager.open({ root: dir });
await m.createNetwork('crowd', { subnets: ['10.70.0.0/16'] });
await m.createNetwork('alone', { subnets: ['10.71.0.0/16'] });
for (let i = 0; i < peers; i++) {
  await m.createSandbox(`p${i}`);
  await m.connect('crowd', `p${i}`);
}
await m.createSandbox('x');

const joinLeave = async (network: string): Promise<number> => timeUs(reps, async () => {
  await m.connect(network, 'x');
  await m.disconnect(network, 'x');
}, 3);
const alone = await joinLeave('alone');
const crowd = await joinLeave('crowd');
const root = new StateRoot({ root: dir });
const unchanged = await timeUs(reps, () => refreshNames(root, { networks: ['crowd'] }), 3);
await m.connect('crowd', 'x');
const forExec = await timeUs(reps, () => refreshNames(root, { sandboxes: ['x'], resolv: true }), 3);
await m.disconnect('crowd', 'x');

const fmt = (us: number): string => `${(us / 1000).toFixed(2)} ms`;
console.log(`| operation (medians of ${reps}) | time |`);
console.log('|---|---:|');
console.log(`| connect + disconnect, network of its own | ${fmt(alone)} |`);
console.log(`| connect + disconnect, network with ${peers} sandboxes (${peers + 1} hosts files rewritten twice) | ${fmt(crowd)} |`);
console.log(`| names refresh of the ${peers}-sandbox network, nothing changed (${peers} files read, none written) | ${fmt(unchanged)} |`);
console.log(`| what \`exec\` adds: one sandbox's two files checked, one of ${peers + 1} on its network, nothing changed | ${fmt(forExec)} |`);

root.close();
for (let i = 0; i < peers; i++) await m.removeSandbox(`p${i}`);
await m.removeSandbox('x');
await m.removeNetworks(['crowd', 'alone']);
m.close();
