/**
 * Layer: cli.
 *
 * `nsbox lab up -f FILE [--dry-run] | down LAB | status LAB` (docs/labs.md, src/lab/); exec,
 * logs and the supervisor in lab-process.ts; the fault commands in lab-faults.ts (fault
 * apply|heal|list, partition, heal, impair); graph in lab-graph.ts. A bad lab file prints its
 * problems one per line, FILE:LINE:COL: path: message, and exits 2 (usage) before anything is
 * made.
 */
import { LabFileError } from '../../errors.js';
import { Lab, down, status, up, type InterfaceStatus, type LabStatus, type UpResult } from '../../lab/index.js';
import type { Register } from '../context.js';
import { EXIT } from '../exit.js';
import { printJson, printTable } from '../output.js';
import { printActiveFaults, registerLabFaults } from './lab-faults.js';
import { registerLabGraph } from './lab-graph.js';
import { printSupervisor, registerLabProcess } from './lab-process.js';

async function load(file: string, json: boolean): Promise<Lab | number> {
  try {
    return await Lab.load(file);
  } catch (err) {
    if (!(err instanceof LabFileError) || json) throw err;
    for (const p of err.message.split('\n')) process.stderr.write(`${p}\n`);
    return EXIT.USAGE;
  }
}

function printUp(r: UpResult, dryRun: boolean): void {
  const verb = (a: string): string => (a === 'note' ? 'note' : dryRun ? `would ${a}` : a);
  if (r.steps.length > 0) printTable(['ACTION', 'RESOURCE', 'DETAIL'], r.steps.map((s) => [verb(s.action), s.key, s.detail]));
  if (!r.changed) process.stdout.write(`lab ${r.lab}: no change (it is up as the file says)\n`);
  else if (!dryRun) process.stdout.write(`lab ${r.lab} is up\n`);
}

const pct = (f: number | undefined): string => (f === undefined ? '-' : `${+(f * 100).toFixed(4)}%`);
const rateText = (bits: number | undefined): string => (bits === undefined ? '-' : bits >= 1e6 ? `${bits / 1e6}mbit` : bits >= 1e3 ? `${bits / 1e3}kbit` : `${bits}bit`);

/** The loss on arrival: the fault table's, or a seeded link's drawn by its delay engine (marked `seeded`). */
const lossText = (i: InterfaceStatus): string => (i.loss !== undefined ? pct(i.loss) : i.delay !== undefined && i.delay.loss > 0 ? `${pct(i.delay.loss)} seeded` : '-');

/** The delay engine's delay and jitter, or why a delay rule is not enforced. */
function delayText(i: InterfaceStatus): string {
  if (i.mechanisms.delay?.startsWith('not enforced') === true) return 'not enforced (no supervisor)';
  const d = i.delay;
  if (d === undefined || (d.delayMs === 0 && d.jitterMs === 0)) return '-';
  return `${d.delayMs}ms${d.jitterMs > 0 ? ` ±${d.jitterMs}ms` : ''}`;
}

function printStatus(s: LabStatus): void {
  if (!s.up) {
    process.stdout.write(`lab ${s.lab} is not up\n`);
    return;
  }
  for (const n of s.networks) process.stdout.write(`network ${n.name} ${n.subnets.join(' ')} (host ${n.hostAddresses.join(' ')})\n`);
  const rows = s.nodes.flatMap((n) => (n.interfaces.length === 0 ? [[n.node, n.state, '-', '-', '-', '-', '-', '-']]
    : n.interfaces.map((i) => [n.node, n.state, i.name, i.network ?? 'link', i.addresses.join(' ') || '-', rateText(i.rate), lossText(i), delayText(i)])));
  printTable(['NODE', 'STATE', 'IFACE', 'NETWORK', 'ADDRESSES', 'RATE (SENT)', 'LOSS (RECEIVED)', 'DELAY (RECEIVED)'], rows);
  for (const n of s.nodes) if (n.blocked.length > 0) process.stdout.write(`${n.node} drops traffic from ${n.blocked.join(' ')}\n`);
  printActiveFaults(s.faults);
  printSupervisor(s.supervisor);
}

export const register: Register = (program, run) => {
  const lab = program.command('lab').description('declarative network labs from a topology file (docs/labs.md)');

  lab.command('up').description('create what the lab file describes that is missing, change what differs (idempotent)')
    .requiredOption('-f, --file <file>', 'the lab file (YAML)')
    .option('--dry-run', 'only print what would be created or changed')
    .action((o: { file: string; dryRun?: boolean }) => run(async ({ manager, json }) => {
      const loaded = await load(o.file, json);
      if (typeof loaded === 'number') return loaded;
      const result = await up(loaded, manager, { dryRun: o.dryRun === true });
      if (json) printJson({ ...result, dryRun: o.dryRun === true });
      else printUp(result, o.dryRun === true);
      return EXIT.OK;
    }));

  lab.command('down').description("remove a lab's sandboxes, networks and links (nothing else); a lab that is gone is fine")
    .argument('<lab>', 'the lab name')
    .action((name: string) => run(async ({ manager, json }) => {
      const result = await down(manager, name);
      if (json) printJson(result);
      else if (result.sandboxes.length + result.networks.length + result.hostLinks.length === 0) process.stdout.write(`lab ${name}: nothing to remove\n`);
      else process.stdout.write(`lab ${name} is down: removed ${result.sandboxes.length} node(s), ${result.networks.length} network(s)\n`);
    }));

  lab.command('status').description("a lab's nodes, interfaces, addresses and live impairments, read from the kernel")
    .argument('<lab>', 'the lab name')
    .action((name: string) => run(async ({ manager, json }) => {
      const s = await status(manager, name);
      if (json) printJson(s);
      else printStatus(s);
      return s.up ? EXIT.OK : EXIT.NOT_FOUND;
    }));

  registerLabFaults(lab, run);
  registerLabGraph(lab, run);
  registerLabProcess(lab, run);
};
