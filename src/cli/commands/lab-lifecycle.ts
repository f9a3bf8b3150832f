/**
 * Layer: cli.
 *
 * A lab's life (docs/labs.md "Apply, resume, gc"): `nsbox lab up [-f FILE] [--dry-run]`, `lab
 * plan [-f FILE] [--detailed-exitcode]` (what `up` would do; exit 0 no change, 2 changes, 1 an
 * error, as terraform's), `lab down [LAB | --all]` and `lab ls`. Without `-f`, `up` and `plan`
 * read ./lab.yaml. A bad lab file prints its problems one per line, FILE:LINE:COL: path:
 * message, and exits 2 (usage) before anything is made.
 */
import { checkLabName } from '../../managed/index.js';
import type { Command } from 'commander';
import { LabFileError, NsboxError } from '../../errors.js';
import { Lab, down, downAll, listLabs, plan, up, type UpResult } from '../../lab/index.js';
import type { Runner } from '../context.js';
import { EXIT } from '../exit.js';
import { printError, printJson, printTable } from '../output.js';

export const DEFAULT_LAB_FILE = 'lab.yaml';

/** The lab file, or the usage exit code once its problems are printed. */
export async function load(file: string, json: boolean): Promise<Lab | number> {
  try {
    return await Lab.load(file);
  } catch (err) {
    if (!(err instanceof LabFileError) || json) throw err;
    for (const p of err.message.split('\n')) process.stderr.write(`${p}\n`);
    return EXIT.USAGE;
  }
}

function printSteps(r: UpResult, dryRun: boolean): void {
  const verb = (a: string): string => (a === 'note' ? 'note' : dryRun ? `would ${a}` : a);
  if (r.steps.length > 0) printTable(['ACTION', 'RESOURCE', 'DETAIL'], r.steps.map((s) => [verb(s.action), s.key, s.detail]));
  if (!r.changed) process.stdout.write(`lab ${r.lab}: no change (it is up as the file says)\n`);
  else if (!dryRun) process.stdout.write(`lab ${r.lab} is up\n`);
}

/** Terraform's -detailed-exitcode: 0 no change, 2 changes, 1 any error. */
const DETAILED = { NO_CHANGE: 0, ERROR: 1, CHANGES: 2 } as const;

export function registerLifecycle(lab: Command, run: Runner): void {
  lab.command('up').description('create what the lab file describes that is missing, change what differs, remove what it no longer has (idempotent; resumes an interrupted up)')
    .option('-f, --file <file>', 'the lab file (YAML)', DEFAULT_LAB_FILE)
    .option('--dry-run', 'only print what would be created, changed or removed')
    .action((o: { file: string; dryRun?: boolean }) => run(async ({ manager, json }) => {
      const loaded = await load(o.file, json);
      if (typeof loaded === 'number') return loaded;
      const result = await up(loaded, manager, { dryRun: o.dryRun === true });
      if (json) printJson({ ...result, dryRun: o.dryRun === true });
      else printSteps(result, o.dryRun === true);
      return EXIT.OK;
    }));

  lab.command('plan').description('what `lab up` would do (its dry run)')
    .option('-f, --file <file>', 'the lab file (YAML)', DEFAULT_LAB_FILE)
    .option('--detailed-exitcode', 'exit 0 with no change, 2 with changes, 1 on an error')
    .action((o: { file: string; detailedExitcode?: boolean }) => run(async ({ manager, json }) => {
      try {
        const loaded = await load(o.file, json);
        if (typeof loaded === 'number') return o.detailedExitcode ? DETAILED.ERROR : loaded;
        const result = await plan(loaded, manager);
        if (json) printJson({ ...result, dryRun: true });
        else printSteps(result, true);
        if (!o.detailedExitcode) return EXIT.OK;
        return result.changed ? DETAILED.CHANGES : DETAILED.NO_CHANGE;
      } catch (err) {
        if (!o.detailedExitcode) throw err;
        printError(err, json);
        return DETAILED.ERROR;
      }
    }));

  lab.command('down').description("remove a lab's sandboxes, networks, links and record (nothing else); a lab that is gone is fine")
    .argument('[lab]', 'the lab name', checkLabName)
    .option('--all', 'every lab: those recorded and those whose sandboxes are labelled nsbox.lab=LAB')
    .action((name: string | undefined, o: { all?: boolean }) => run(async ({ manager, json }) => {
      if ((name === undefined) === (o.all !== true)) throw new NsboxError('give a lab name or --all (not both)', 'NSBOX_ERR_USAGE');
      if (o.all) {
        const { results, errors } = await downAll(manager);
        if (json) printJson({ labs: results, errors });
        else if (results.length === 0 && errors.length === 0) process.stdout.write('no lab to remove\n');
        else for (const r of results) process.stdout.write(`lab ${r.lab} is down: removed ${r.sandboxes.length} node(s), ${r.networks.length} network(s)\n`);
        if (errors.length > 0) throw new NsboxError(errors.map((e) => `lab ${e.lab}: ${e.error}`).join('; '), 'NSBOX_ERR_INTERNAL');
        return EXIT.OK;
      }
      const result = await down(manager, name!);
      if (json) printJson(result);
      else if (result.sandboxes.length + result.networks.length + result.hostLinks.length === 0 && !result.record) process.stdout.write(`lab ${name!}: nothing to remove\n`);
      else process.stdout.write(`lab ${name!} is down: removed ${result.sandboxes.length} node(s), ${result.networks.length} network(s)\n`);
      return EXIT.OK;
    }));

  lab.command('ls').description('labs: their state, nodes, file and times')
    .action(() => run(async ({ manager, json }) => {
      const labs = listLabs(manager);
      if (json) printJson(labs);
      else if (labs.length === 0) process.stdout.write('no labs\n');
      else printTable(['LAB', 'STATE', 'NODES', 'FILE', 'CREATED', 'UPDATED'], labs.map((l) => [l.name, l.state ?? '(no record)', String(l.nodes), l.file ?? '-', l.createdAt ?? '-', l.updatedAt ?? '-']));
    }));
}
