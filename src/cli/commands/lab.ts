/**
 * Layer: cli.
 *
 * `nsbox lab status LAB` (docs/labs.md, src/lab/); up, plan, down and ls are lab-lifecycle.ts;
 * exec, logs and the supervisor lab-process.ts; the fault commands lab-faults.ts (fault
 * apply|heal|list, partition, heal, impair); graph lab-graph.ts.
 */
import { checkLabName } from '../../managed/index.js';
import { status, type InterfaceStatus, type LabStatus } from '../../lab/index.js';
import type { Register } from '../context.js';
import { EXIT } from '../exit.js';
import { printJson, printTable } from '../output.js';
import { printActiveFaults, registerLabFaults } from './lab-faults.js';
import { registerLabGraph } from './lab-graph.js';
import { registerLifecycle } from './lab-lifecycle.js';
import { printSupervisor, registerLabProcess } from './lab-process.js';

const pct = (f: number | undefined): string => (f === undefined ? '-' : `${+(f * 100).toFixed(4)}%`);
const rateText = (bits: number | undefined): string => (bits === undefined ? '-' : bits >= 1e6 ? `${bits / 1e6}mbit` : bits >= 1e3 ? `${bits / 1e3}kbit` : `${bits}bit`);

/** The loss on arrival: the fault table's, or a seeded link's drawn by its delay engine (marked `seeded`). */
const lossText = (i: InterfaceStatus): string => (i.loss !== undefined ? pct(i.loss) : i.delay !== undefined && i.delay.loss > 0 ? `${pct(i.delay.loss)} seeded, on sending` : '-');

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
  printDrift(s);
}

function printDrift(s: LabStatus): void {
  if (s.state === undefined) return;
  process.stdout.write(`state: ${s.state}; ${s.drift.length === 0 ? 'no drift from the file' : `drift from the file (${s.drift.length}):`}\n`);
  for (const d of s.drift) process.stdout.write(`  ${d.key}: want ${d.want}, have ${d.have}\n`);
}

export const register: Register = (program, run) => {
  const lab = program.command('lab').description('declarative network labs from a topology file (docs/labs.md)');

  registerLifecycle(lab, run);

  lab.command('status').description("a lab's nodes, interfaces, addresses and live impairments, read from the kernel")
    .argument('<lab>', 'the lab name', checkLabName)
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
