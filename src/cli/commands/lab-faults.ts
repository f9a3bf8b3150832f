/**
 * Layer: cli.
 *
 * The fault commands of `nsbox lab` (docs/labs.md "Faults"): `fault apply LAB NAME [--for D]`,
 * `fault heal LAB [NAME]`, `fault list LAB`, `partition LAB G1 G2 [--oneway] [--for D]`,
 * `heal LAB`, and `impair LAB LINK [--dir] [--rate] [--loss] [--delay] [--jitter] [--clear]`.
 * Commands that need the file's fault definitions read the file `up` stored, or `-f FILE`.
 */
import { checkLabName } from '../../managed/index.js';
import type { Command } from 'commander';
import { NsboxError } from '../../errors.js';
import {
  applyFault, heal, healFault, impair, labSpecOf, listFaults, partition,
  type ApplyFaultResult, type FaultStatus, type Impairment,
} from '../../lab/index.js';
import { parseDuration, parseLoss, parseRate } from '../../lab/units.js';
import type { Manager } from '../../managed/index.js';
import type { Runner } from '../context.js';
import { printJson, printTable } from '../output.js';

/** A unit parser's TypeError as a usage error naming the flag. */
function parsed<T>(flag: string, value: string | undefined, parse: (v: unknown) => T): T | undefined {
  if (value === undefined) return undefined;
  try {
    return parse(value);
  } catch (err) {
    throw new NsboxError(`${flag}: ${(err as Error).message}`, 'NSBOX_ERR_USAGE');
  }
}

const forMs = (value: string | undefined): number | undefined => parsed('--for', value, (v) => parseDuration(v, 'duration'));
const lossValue = (v: unknown): number => parseLoss(typeof v === 'string' && /^[0-9.]+$/.test(v) ? Number(v) : v);
const DIRS = ['a->b', 'b->a', 'both'] as const;
const groupOf = (text: string): string[] => text.split(',').map((x) => x.trim()).filter((x) => x !== '');

const rateText = (bits: number | undefined): string => (bits === undefined ? '-' : bits >= 1e6 ? `${bits / 1e6}mbit` : bits >= 1e3 ? `${bits / 1e3}kbit` : `${bits}bit`);
const pct = (f: number | undefined): string => (f === undefined ? '-' : `${+(f * 100).toFixed(4)}%`);
const impairmentText = (i: Impairment): string => `rate ${rateText(i.rate)}, loss ${pct(i.loss)}`;

/** The active (or listed) faults as a table: NAME KIND ACTIVE SINCE HEALS-AT DETAIL. */
export function printFaults(faults: readonly FaultStatus[]): void {
  printTable(['NAME', 'KIND', 'ACTIVE', 'SINCE', 'HEALS AT', 'DETAIL'], faults.map((f) => [
    f.name, f.kind, f.overdue ? 'overdue' : f.active ? 'yes' : 'no', f.since ?? '-', f.healAt ?? '-', f.detail,
  ]));
}

function printApplied(r: ApplyFaultResult): void {
  if (!r.applied) {
    process.stdout.write(`fault ${r.name} of lab ${r.lab} is already active: nothing done\n`);
    return;
  }
  process.stdout.write(`fault ${r.name} applied: ${r.detail}${r.healAt === undefined ? '' : ` (heals at ${r.healAt})`}\n`);
  for (const n of r.notes) process.stdout.write(`note: ${n}\n`);
}

export function registerLabFaults(lab: Command, run: Runner): void {
  const fault = lab.command('fault').description("a lab's named faults (the file's `faults:`): apply, heal, list");

  fault.command('apply').description('apply a fault of the lab file (a no-op when it is active)')
    .argument('<lab>', 'the lab name', checkLabName)
    .argument('<name>', "the fault's name in the file")
    .option('--for <duration>', 'heal it after this long, e.g. 30s (when a timer or `fault heal` runs)')
    .option('-f, --file <file>', "the lab file (default: the file `up` stored)")
    .action((name: string, faultName: string, o: { for?: string; file?: string }) => run(async ({ manager, json }) => {
      const result = await applyFault(manager, name, faultName, { forMs: forMs(o.for), ...(o.file === undefined ? {} : { file: o.file }) });
      if (json) printJson(result);
      else printApplied(result);
    }));

  fault.command('heal').description('heal an active fault, or every active fault (a fault that is not active is fine)')
    .argument('<lab>', 'the lab name', checkLabName)
    .argument('[name]', 'the fault (default: all of them)')
    .action((name: string, faultName: string | undefined) => run(async ({ manager, json }) => {
      if (faultName === undefined) return healAll(manager, name, json);
      const result = await healFault(manager, name, faultName);
      if (json) printJson(result);
      else if (!result.healed) process.stdout.write(`fault ${faultName} of lab ${name} is not active: nothing to heal\n`);
      else process.stdout.write([`fault ${faultName} healed`, ...result.restored.map((x) => `  ${x}`)].join('\n') + '\n');
    }));

  fault.command('list').description("every fault of the lab's file and every active one: kind, active, since, heals at")
    .argument('<lab>', 'the lab name', checkLabName)
    .option('-f, --file <file>', "the lab file (default: the file `up` stored)")
    .action((name: string, o: { file?: string }) => run(async ({ manager, json }) => {
      const spec = await labSpecOf(manager, name, o.file);
      const faults = listFaults(manager, name, spec);
      if (json) printJson(faults);
      else {
        if (spec === undefined) process.stderr.write(`nsbox: no file is stored for lab ${name}: only its active faults are listed (give -f FILE for the others)\n`);
        if (faults.length === 0) process.stdout.write(`lab ${name}: no faults\n`);
        else printFaults(faults);
      }
    }));

  lab.command('partition').description('cut two groups of nodes off each other (dropped on arrival), as the active fault partition-N; groups are comma-separated node names')
    .argument('<lab>', 'the lab name', checkLabName)
    .argument('<group1>', 'nodes, e.g. n1,n2')
    .argument('<group2>', 'nodes, e.g. r1')
    .option('--oneway', 'only drop traffic from the first group to the second')
    .option('--for <duration>', 'heal it after this long, e.g. 30s')
    .action((name: string, g1: string, g2: string, o: { oneway?: boolean; for?: string }) => run(async ({ manager, json }) => {
      const result = await partition(manager, name, [groupOf(g1), groupOf(g2)], { oneway: o.oneway === true, forMs: forMs(o.for) });
      if (json) printJson(result);
      else {
        printApplied(result);
        for (const [sandbox, addrs] of Object.entries(result.blocked)) process.stdout.write(`${sandbox} drops traffic from ${addrs.join(' ')}\n`);
      }
    }));

  lab.command('heal').description("heal every active fault of a lab (partitions, links down, impairment sets, signals)")
    .argument('<lab>', 'the lab name', checkLabName)
    .action((name: string) => run(({ manager, json }) => healAll(manager, name, json)));

  lab.command('impair').description("change a running link's impairments, merged into what is live (a field not given stays)")
    .argument('<lab>', 'the lab name', checkLabName)
    .argument('<link>', 'the link name')
    .option('--dir <dir>', "a->b, b->a or both (quote it in a shell: --dir 'a->b')", 'both')
    .option('--rate <rate>', 'e.g. 10mbit (units as in the lab file)')
    .option('--loss <loss>', 'e.g. 5% or 0.05')
    .option('--delay <duration>', 'e.g. 20ms (not supported yet)')
    .option('--jitter <duration>', 'e.g. 5ms (not supported yet)')
    .option('--clear', "take the direction's impairments away first")
    .action((name: string, link: string, o: { dir: string; rate?: string; loss?: string; delay?: string; jitter?: string; clear?: boolean }) => run(async ({ manager, json }) => {
      const dir = DIRS.find((d) => d === o.dir);
      if (dir === undefined) throw new NsboxError(`--dir: expected a->b, b->a or both, got ${o.dir}`, 'NSBOX_ERR_USAGE');
      const options = {
        dir, clear: o.clear === true,
        rate: parsed('--rate', o.rate, parseRate), loss: parsed('--loss', o.loss, lossValue),
        delay: parsed('--delay', o.delay, (v) => parseDuration(v, 'delay')), jitter: parsed('--jitter', o.jitter, (v) => parseDuration(v, 'jitter')),
      };
      const result = await impair(manager, name, link, options);
      if (json) printJson(result);
      else for (const d of result.directions) process.stdout.write(`${link} ${d.dir}: ${impairmentText(d.after)} (was ${impairmentText(d.before)})\n`);
    }));
}

async function healAll(manager: Manager, name: string, json: boolean): Promise<void> {
  const result = await heal(manager, name);
  if (json) printJson(result);
  else {
    const names = result.healed.map((h) => h.name);
    process.stdout.write(names.length === 0 ? `lab ${name}: no active fault\n` : `lab ${name}: healed ${names.join(', ')}\n`);
    for (const [sandbox, addrs] of Object.entries(result.swept)) process.stdout.write(`${sandbox} no longer drops ${addrs.join(' ')} (no active fault held them)\n`);
  }
}

/** `lab status`'s active faults, after its table. */
export function printActiveFaults(faults: readonly FaultStatus[]): void {
  if (faults.length === 0) return;
  process.stdout.write('active faults:\n');
  printFaults(faults);
}
