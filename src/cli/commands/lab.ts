/**
 * Layer: cli.
 *
 * `nsbox lab status LAB | partition LAB GROUP GROUP [--oneway] | heal LAB` (docs/labs.md,
 * src/lab/); up, plan, down and ls are lab-lifecycle.ts.
 */
import { heal, partition, status, type LabStatus } from '../../lab/index.js';
import type { Register } from '../context.js';
import { EXIT } from '../exit.js';
import { printJson, printTable } from '../output.js';
import { registerLifecycle } from './lab-lifecycle.js';

const pct = (f: number | undefined): string => (f === undefined ? '-' : `${+(f * 100).toFixed(4)}%`);
const rateText = (bits: number | undefined): string => (bits === undefined ? '-' : bits >= 1e6 ? `${bits / 1e6}mbit` : bits >= 1e3 ? `${bits / 1e3}kbit` : `${bits}bit`);

function printStatus(s: LabStatus): void {
  if (!s.up) {
    process.stdout.write(`lab ${s.lab} is not up\n`);
    return;
  }
  for (const n of s.networks) process.stdout.write(`network ${n.name} ${n.subnets.join(' ')} (host ${n.hostAddresses.join(' ')})\n`);
  const rows = s.nodes.flatMap((n) => (n.interfaces.length === 0 ? [[n.node, n.state, '-', '-', '-', '-', '-']]
    : n.interfaces.map((i) => [n.node, n.state, i.name, i.network ?? 'link', i.addresses.join(' ') || '-', rateText(i.rate), pct(i.loss)])));
  printTable(['NODE', 'STATE', 'IFACE', 'NETWORK', 'ADDRESSES', 'RATE (SENT)', 'LOSS (RECEIVED)'], rows);
  for (const n of s.nodes) if (n.blocked.length > 0) process.stdout.write(`${n.node} drops traffic from ${n.blocked.join(' ')}\n`);
  printDrift(s);
}

function printDrift(s: LabStatus): void {
  if (s.state === undefined) return;
  process.stdout.write(`state: ${s.state}; ${s.drift.length === 0 ? 'no drift from the file' : `drift from the file (${s.drift.length}):`}\n`);
  for (const d of s.drift) process.stdout.write(`  ${d.key}: want ${d.want}, have ${d.have}\n`);
}

const groupOf = (text: string): string[] => text.split(',').map((x) => x.trim()).filter((x) => x !== '');

export const register: Register = (program, run) => {
  const lab = program.command('lab').description('declarative network labs from a topology file (docs/labs.md)');

  registerLifecycle(lab, run);

  lab.command('status').description("a lab's nodes, interfaces, addresses and live impairments, read from the kernel")
    .argument('<lab>', 'the lab name')
    .action((name: string) => run(async ({ manager, json }) => {
      const s = await status(manager, name);
      if (json) printJson(s);
      else printStatus(s);
      return s.up ? EXIT.OK : EXIT.NOT_FOUND;
    }));

  lab.command('partition').description('cut two groups of nodes off each other (dropped on arrival); groups are comma-separated node names')
    .argument('<lab>', 'the lab name')
    .argument('<group1>', 'nodes, e.g. n1,n2')
    .argument('<group2>', 'nodes, e.g. r1')
    .option('--oneway', 'only drop traffic from the first group to the second')
    .action((name: string, g1: string, g2: string, o: { oneway?: boolean }) => run(async ({ manager, json }) => {
      const result = await partition(manager, name, [groupOf(g1), groupOf(g2)], { oneway: o.oneway === true });
      if (json) printJson(result);
      else for (const [sandbox, addrs] of Object.entries(result.blocked)) process.stdout.write(`${sandbox} drops traffic from ${addrs.join(' ')}\n`);
    }));

  lab.command('heal').description("undo every partition of a lab (the links' impairments stay)")
    .argument('<lab>', 'the lab name')
    .action((name: string) => run(async ({ manager, json }) => {
      const result = await heal(manager, name);
      if (json) printJson(result);
      else process.stdout.write(`lab ${name}: healed (${Object.values(result).flat().length} blocked address(es) removed)\n`);
    }));
};
