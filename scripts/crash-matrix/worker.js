/**
 * A crash-matrix worker (scripts/crash-matrix.js): runs in a throwaway host of its own (its own
 * network and mount namespaces, /run, /run/netns, nf_tables tables and state roots, so workers
 * never collide), takes tasks from a queue directory shared with the other workers and appends
 * what it found to its results file.
 *
 * The queue: DIR/queue/NAME, each a JSON task; a worker claims one by renaming it into
 * DIR/claimed (only one rename succeeds), and tasks are taken in the order of their names.
 * - count {command}: a run under strace counts the command's state-changing syscalls, once per
 *   command; the worker then queues the command's kill points (all, or a sample spread evenly over
 *   them) in chunks, and moves the task to DIR/done;
 * - kills {command, kills}: kill points (syscall, N) or kill times (ms), each run by `killOnce`.
 * A worker stops when the queue is empty and no count is still running (it may queue more), or
 * at the deadline. Results: DIR/results/worker-ID.jsonl, one line per count and per kill.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { invariants, readDb } from './invariants.js';
import { countSyscalls, describe, runStepKilledAfter, runStepProcess, runner } from './run.js';
import { CNI_NETNS, SCENARIOS, cniConfig } from './scenarios.js';

/** `count` items of `list` spread evenly (first and last included), deterministic. */
export function spread(list, count) {
  if (count >= list.length) return [...list];
  if (count <= 0) return [];
  if (count === 1) return [list[Math.floor(list.length / 2)]];
  const out = [];
  for (let i = 0; i < count; i++) out.push(list[Math.round((i * (list.length - 1)) / (count - 1))]);
  return [...new Set(out)];
}

const pad = (n, w = 5) => String(n).padStart(w, '0');

/** Queue a task (written aside, then renamed in: a worker never reads half a task). */
export function enqueue(dir, name, task) {
  const tmp = join(dir, 'tmp', name);
  writeFileSync(tmp, JSON.stringify(task));
  renameSync(tmp, join(dir, 'queue', name));
}

/** A command's name as a task name's tail. */
export const slug = (command) => command.replace(/\s+/g, '-');

/**
 * The first task this worker could claim, in the order of the names, those of `command` (the
 * one whose state root the worker holds: a sample's workers keep to one command while it has
 * work, the full matrix's go round the commands so that a deadline leaves each as far as the
 * others) first; or undefined.
 */
function claim(dir, command) {
  const names = readdirSync(join(dir, 'queue')).sort();
  const mine = command === undefined ? [] : names.filter((n) => n.endsWith(`-${slug(command)}`));
  for (const name of [...mine, ...names]) {
    try {
      renameSync(join(dir, 'queue', name), join(dir, 'claimed', name));
    } catch {
      continue; // another worker took it
    }
    return { name, task: JSON.parse(readFileSync(join(dir, 'claimed', name), 'utf8')) };
  }
  return undefined;
}

export async function runWorker(dir, id) {
  const opts = JSON.parse(readFileSync(join(dir, 'opts.json'), 'utf8'));
  const x = runner({ processes: opts.processes });
  const out = join(dir, 'results', `worker-${id}.jsonl`);
  const record = (line) => appendFileSync(out, `${JSON.stringify({ worker: id, ...line })}\n`);
  // One state root at a time (roots in one host share its nf_tables table and bridge names):
  // the current command's, cleaned away before the worker moves to another command.
  let current;
  let rootSeq = 0;
  const rootOf = async (command) => {
    if (current?.command === command) return current.root;
    if (current !== undefined) await scrub(current.root, x);
    const root = `/run/cm-${slug(command)}-${rootSeq++}`;
    mkdirSync(root, { recursive: true, mode: 0o700 });
    current = { command, root };
    await SCENARIOS[command].prepare?.(root, x);
    return root;
  };
  const dropRoot = async () => {
    if (current !== undefined) await scrub(current.root, x);
    current = undefined;
  };

  for (;;) {
    if (Date.now() > opts.deadline) break;
    const claimed = claim(dir, opts.affinity ? current?.command : undefined);
    if (claimed === undefined) {
      const counting = readdirSync(join(dir, 'claimed')).some((n) => n.startsWith('0-'));
      if (!counting) break;
      await sleep(200);
      continue;
    }
    const { name, task } = claimed;
    if (task.kind === 'count') {
      const t0 = Date.now();
      const line = { kind: 'count', command: task.command, syscalls: {}, total: 0, queued: 0, defects: [] };
      try {
        const root = await rootOf(task.command);
        const points = await countOnce(SCENARIOS[task.command], root, x, line);
        const chosen = opts.pointsPerCommand === undefined ? points : spread(points, opts.pointsPerCommand);
        line.total = points.length;
        line.queued = chosen.length;
        for (let c = 0; c * opts.chunk < chosen.length; c++) {
          enqueue(dir, `1-${pad(c)}-${pad(task.index, 2)}-${slug(task.command)}`, { kind: 'kills', command: task.command, kills: chosen.slice(c * opts.chunk, (c + 1) * opts.chunk) });
        }
      } catch (err) {
        line.defects.push(`counting aborted: ${err.message}`);
      }
      line.seconds = (Date.now() - t0) / 1000;
      record(line);
      renameSync(join(dir, 'claimed', name), join(dir, 'done', name));
      continue;
    }
    for (const kill of task.kills) {
      if (Date.now() > opts.deadline) {
        record({ kind: 'skipped', command: task.command, label: kill.label });
        continue;
      }
      const t0 = Date.now();
      let res;
      try {
        const root = await rootOf(task.command);
        res = await killOnce(SCENARIOS[task.command], root, kill, x, opts);
      } catch (err) {
        res = { landed: false, defects: [`${kill.label}: aborted: ${err.message}`] };
      }
      record({ kind: 'kill', command: task.command, label: kill.label, random: kill.ms !== undefined, landed: res.landed, defects: res.defects, seconds: (Date.now() - t0) / 1000 });
      if (opts.verbose) console.error(`  [w${id}] ${task.command} ${kill.label}: ${res.landed ? 'killed' : 'completed'}${res.defects.length > 0 ? `: ${res.defects.join('; ')}` : ''}`);
      if (res.defects.length > 0) {
        // start again from a clean root (what the next points need made again)
        await dropRoot();
      }
    }
    renameSync(join(dir, 'claimed', name), join(dir, 'done', name));
  }
  await dropRoot();
  if (existsSync(CNI_NETNS)) spawnSync('ip', ['netns', 'del', 'cm-ctr'], { stdio: 'ignore' });
}

function stepOf(scenario, root) {
  return typeof scenario.step === 'function' ? scenario.step(root) : scenario.step;
}

/**
 * The counting run (then its effect undone); the command's kill points, in order. Counted in
 * the steady state the kill runs see: after one run of the command (and its clean-up) first,
 * which made what a first run on a fresh root or host makes once (the database, the host's
 * nf_tables table), so that the points are the ones each kill run reaches.
 */
async function countOnce(scenario, root, x, line) {
  await scenario.setup?.(root, x);
  const warm = await x.step(stepOf(scenario, root), root);
  if (warm.code !== 0) throw new Error(`the first run of ${describe(stepOf(scenario, root))} failed (${warm.code}): ${warm.stderr.trim()}`);
  if (scenario.done(readDb(root)) || scenario.alwaysRerun) await scenario.cleanup?.(root, x);
  await scenario.setup?.(root, x);
  const counts = countSyscalls(stepOf(scenario, root), root, join(root, 'count.trace'));
  line.syscalls = Object.fromEntries(counts);
  if (scenario.done(readDb(root)) || scenario.alwaysRerun) await scenario.cleanup?.(root, x);
  line.defects.push(...invariants(root).map((d) => `after the counting run: ${d}`));
  return [...counts].flatMap(([syscall, n]) => Array.from({ length: n }, (_, i) => ({ syscall, n: i + 1, label: `${syscall}#${i + 1}` })));
}

/** Remove everything of a root (after a defect, so the next points start clean). */
async function scrub(root, x) {
  await x.nsbox(root, 'lab', 'down', '--all');
  for (const s of readDb(root).sandboxes.filter((s) => s.name.startsWith('cni-'))) await x.nsbox(root, 'rm', s.name);
  await x.step({ cni: { command: 'DEL', containerId: 'cm-ctr', netns: CNI_NETNS, config: cniConfig } }, root);
  await x.nsbox(root, 'rm', '--all');
  for (const n of readDb(root).networks) await x.nsbox(root, 'network', 'rm', n.name);
  await x.nsbox(root, 'gc');
}

/**
 * One kill: setup, the command killed (a process, under strace for a kill point, or SIGKILLed
 * after kill.ms), gc, restore, invariants, the command again, cleanup, invariants. Returns
 * { landed, defects }.
 */
export async function killOnce(scenario, root, kill, x, opts) {
  const defects = [];
  const where = kill.label;
  await scenario.setup?.(root, x);
  const step = stepOf(scenario, root);
  const res = kill.syscall !== undefined
    // not --seccomp-bpf: strace 6.1 does not inject with it
    ? runStepProcess(step, root, ['strace', '-f', '-qq', '-o', '/dev/null', '-e', `trace=${kill.syscall}`, '-e', `inject=${kill.syscall}:signal=SIGKILL:when=${kill.n}`])
    : await runStepKilledAfter(step, root, kill.ms);
  const landed = res.signal === 'SIGKILL' || res.code === 137;
  if (!landed && res.code !== 0) defects.push(`${where}: the command itself failed (${res.code ?? res.signal}): ${res.stderr.trim().split('\n').at(-1)}`);

  defects.push(...(await (opts.processes ? gcByCli : gcInProcess)(root, x)).map((d) => `${where}: ${d}`));
  for (const d of invariants(root)) defects.push(`${where}, after gc: ${d}`);

  const again = scenario.alwaysRerun === true || !scenario.done(readDb(root));
  if (again) {
    for (const s of scenario.rerun ?? [step]) {
      const r = await x.step(s, root);
      if (r.code !== 0) defects.push(`${where}: ${describe(s)} again failed (${r.code ?? r.signal}): ${r.stderr.trim().split('\n').at(-1)}${r.stdout.trim().slice(0, 200)}`);
    }
    for (const d of invariants(root)) defects.push(`${where}, after the command again: ${d}`);
  }
  try {
    await scenario.cleanup?.(root, x);
  } catch (err) {
    defects.push(`${where}: cleanup failed: ${err.message}`);
  }
  return { landed, defects };
}

/** `nsbox gc` then `nsbox restore` as processes; what failed. */
async function gcByCli(root, x) {
  const out = [];
  const gc = await x.nsbox(root, 'gc');
  if (gc.code !== 0) out.push(`gc failed (${gc.code ?? gc.signal}): ${gc.stderr.trim()}`);
  const restore = await x.nsbox(root, 'restore');
  if (restore.code !== 0) out.push(`restore failed (${restore.code ?? restore.signal}): ${restore.stderr.trim()}`);
  return out;
}

let lib;

/**
 * What `nsbox gc` and `nsbox restore` run (src/cli/commands/gc.ts, restore.ts), in this process,
 * reporting every error and every sandbox restore did not adopt (the CLI would print them).
 */
async function gcInProcess(root) {
  const dist = new URL('../../dist/src/', import.meta.url);
  lib ??= {
    managed: await import(new URL('managed/index.js', dist).href),
    lab: await import(new URL('lab/index.js', dist).href),
  };
  const out = [];
  const manager = lib.managed.Manager.open({ root });
  try {
    await lib.lab.reapAllLeftovers(manager);
    const managed = await manager.gc();
    const labs = await lib.lab.gcLabs(manager);
    for (const e of [...managed.errors, ...labs.errors]) out.push(`gc failed: ${e.name}: ${e.error}`);
    for (const r of await manager.restore()) if (r.status !== 'adopted') out.push(`restore: ${r.name} ${r.status}: ${r.detail}`);
  } catch (err) {
    out.push(`gc or restore threw: ${err.message}`);
  } finally {
    manager.close();
  }
  return out;
}
