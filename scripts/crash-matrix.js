#!/usr/bin/env node
/**
 * The crash matrix (docs/reliability.md "Crash matrix"): every state-changing command SIGKILLed
 * at each of its state-changing syscalls, then `nsbox gc` (and `nsbox restore`), the
 * invariants, the same command again, and its cleanup.
 *
 *   npm run crash-matrix                       # full: every kill point of every command, plus random kill times
 *   node scripts/crash-matrix.js               # the CI sample (SAMPLE_POINTS kill points, deterministic)
 *   node scripts/crash-matrix.js --points 60 --commands create,rm --random 3 --seed 7 --workers 3 --json out.json
 *   node scripts/crash-matrix.js --full --minutes 60 --json out.json    # as much of the full matrix as an hour allows
 *
 * As root. Runs the built dist/ (`npm run build:ts` first).
 *
 * Workers. `--workers N` (default 3) processes, each in a throwaway host of its own
 * (scripts/throwaway-host.js: its own network and mount namespaces, /run, /run/netns, nf_tables
 * tables, bridges and state roots, so their fixed names never collide), take tasks from a
 * queue in a temporary directory (scripts/crash-matrix/worker.js): first each command's counting
 * run, then its kill points in chunks, interleaved over the commands.
 *
 * Kill points. For each command, a first run under `strace -f -e trace=SYSCALLS` counts each
 * state-changing syscall (mounts, namespaces, netlink and other socket sends, writes, renames,
 * unlinks, mkdirs, symlinks, fsyncs: SYSCALLS in crash-matrix/run.js). A kill point is (syscall,
 * N): the command runs under `strace -f -e inject=SYSCALL:signal=SIGKILL:when=N`, so the N-th
 * call of that syscall (counted per process: the first to reach it) is killed on entry, before
 * it changes anything. The full matrix tries every N of every syscall; a sample spreads its
 * points evenly over each command's list. Random kill times: the command killed after a random
 * delay (seeded), spread over the commands.
 *
 * After each kill: gc and restore must succeed, then the invariants (crash-matrix/invariants.js)
 * must hold; if the command's effect is not in place, the same command again must succeed and
 * the invariants hold again; then the scenario's cleanup (crash-matrix/scenarios.js). The killed
 * command is always a process of the bin; gc, restore, the re-run, set-ups and clean-ups run the
 * same code in the worker's process (the CLI's main(), runCni), unless `--processes`.
 *
 * Prints per command: kill points tried, kills that landed, failures, and each defect.
 * Exit status 1 when any defect was found.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCENARIOS } from './crash-matrix/scenarios.js';
import { enqueue, runWorker, slug } from './crash-matrix/worker.js';

export { invariants, readDb } from './crash-matrix/invariants.js';
export { SYSCALLS } from './crash-matrix/run.js';
export { SCENARIOS } from './crash-matrix/scenarios.js';
export { spread } from './crash-matrix/worker.js';

const SELF = fileURLToPath(import.meta.url);
const THROWAWAY = fileURLToPath(new URL('throwaway-host.js', import.meta.url));

/** The CI sample's size (kill points, spread evenly over the commands: 16 each). */
export const SAMPLE_POINTS = 208;

/** A seeded PRNG (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const USAGE = 'options: --full --points N --commands a,b --random N --random-max-ms MS --seed N --workers N --minutes M --processes --json FILE -v';

function parseArgs(argv) {
  const opts = { processes: false, full: false, points: SAMPLE_POINTS, commands: Object.keys(SCENARIOS), random: undefined, randomMaxMs: 1500, seed: 1, workers: 3, minutes: Infinity, json: undefined, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const number = (min) => {
      const v = Number(value());
      if (!Number.isFinite(v) || v < min) throw new Error(`${a} needs a number ≥ ${min}`);
      return v;
    };
    if (a === '--full') opts.full = true;
    else if (a === '--processes' || a === '--cli-gc') opts.processes = true;
    else if (a === '--points') opts.points = number(1);
    else if (a === '--commands') opts.commands = value().split(',').map((c) => c.trim().replace(/-/g, ' '));
    else if (a === '--random') opts.random = number(0);
    else if (a === '--random-max-ms') opts.randomMaxMs = number(1);
    else if (a === '--seed') opts.seed = number(0);
    else if (a === '--workers') opts.workers = number(1);
    else if (a === '--minutes') opts.minutes = number(0);
    else if (a === '--json') opts.json = value();
    else if (a === '--verbose' || a === '-v') opts.verbose = true;
    else throw new Error(`unknown option ${a} (${USAGE})`);
  }
  for (const c of opts.commands) if (SCENARIOS[c] === undefined) throw new Error(`unknown command ${JSON.stringify(c)}; the commands: ${Object.keys(SCENARIOS).join(', ')}`);
  opts.random ??= opts.full ? 5 * opts.commands.length : 0;
  if (!opts.full) opts.pointsPerCommand = Math.max(1, Math.ceil(opts.points / opts.commands.length));
  opts.chunk = opts.full ? 20 : 4;
  opts.affinity = !opts.full;
  return opts;
}

/** The queue: a count per command, and the seeded random kill times (spread over the commands). */
function makeQueue(dir, opts) {
  for (const d of ['queue', 'claimed', 'done', 'tmp', 'results']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'opts.json'), JSON.stringify({ ...opts, deadline: Number.isFinite(opts.minutes) ? Date.now() + opts.minutes * 60_000 : Number.MAX_SAFE_INTEGER }));
  opts.commands.forEach((command, index) => enqueue(dir, `0-${String(index).padStart(2, '0')}-${slug(command)}`, { kind: 'count', command, index }));
  const random = rng(opts.seed);
  for (let i = 0; i < opts.random; i++) {
    const command = opts.commands[i % opts.commands.length];
    const ms = Math.round(random() * opts.randomMaxMs);
    enqueue(dir, `2-${String(i).padStart(5, '0')}-${slug(command)}`, { kind: 'kills', command, kills: [{ ms, label: `after ${ms} ms` }] });
  }
}

function startWorker(dir, id) {
  const child = spawn(process.execPath, [THROWAWAY, '--', process.execPath, SELF, '--worker', dir, String(id)], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
}

/** Per command: the counts and every kill's outcome, from the workers' results. */
function summarize(dir, opts) {
  const reports = new Map(opts.commands.map((c) => [c, { command: c, syscalls: {}, totalPoints: 0, killPoints: 0, randomKills: 0, landed: 0, failures: 0, skipped: 0, counted: false, defects: [], seconds: 0 }]));
  for (const f of readdirSync(join(dir, 'results'))) {
    for (const text of readFileSync(join(dir, 'results', f), 'utf8').split('\n')) {
      if (text === '') continue;
      const line = JSON.parse(text);
      const r = reports.get(line.command);
      r.seconds += line.seconds ?? 0;
      if (line.kind === 'count') {
        r.counted = true;
        r.syscalls = line.syscalls;
        r.totalPoints = line.total;
        if (line.defects.length > 0) r.failures++;
      } else if (line.kind === 'skipped') {
        r.skipped++;
        continue;
      } else if (line.random) r.randomKills++;
      else r.killPoints++;
      if (line.landed) r.landed++;
      if (line.kind === 'kill' && line.defects.length > 0) r.failures++;
      r.defects.push(...line.defects);
    }
  }
  // tasks never claimed (the deadline came first)
  for (const f of readdirSync(join(dir, 'queue'))) {
    const task = JSON.parse(readFileSync(join(dir, 'queue', f), 'utf8'));
    reports.get(task.command).skipped += task.kind === 'kills' ? task.kills.length : 0;
  }
  for (const r of reports.values()) if (!r.counted) r.defects.push('not counted (the run ended first, or its worker died)');
  return [...reports.values()];
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the crash matrix needs root (it runs its workers in throwaway hosts)');
  const dir = mkdtempSync(join(tmpdir(), 'nsbox-crash-matrix-'));
  try {
    makeQueue(dir, opts);
    const what = opts.full ? 'every kill point' : `${opts.pointsPerCommand} kill points`;
    console.log(`crash matrix: ${what} of each of ${opts.commands.length} commands, ${opts.random} random kill times (seed ${opts.seed}), ${opts.workers} workers${Number.isFinite(opts.minutes) ? `, at most ${opts.minutes} min` : ''}`);
    const t0 = Date.now();
    const exits = await Promise.all(Array.from({ length: opts.workers }, (_, i) => startWorker(dir, i)));
    const seconds = (Date.now() - t0) / 1000;
    const reports = summarize(dir, opts);
    for (const r of reports) {
      console.log(`${r.command.padEnd(15)} points ${String(r.killPoints).padStart(4)}/${String(r.totalPoints).padStart(4)}  random ${String(r.randomKills).padStart(3)}  killed ${String(r.landed).padStart(4)}  failures ${String(r.failures).padStart(3)}${r.skipped > 0 ? `  not reached ${r.skipped}` : ''}  ${r.seconds.toFixed(0)} worker-s`);
      for (const d of r.defects) console.log(`    defect: ${d}`);
    }
    const total = (k) => reports.reduce((a, r) => a + r[k], 0);
    const tried = total('killPoints') + total('randomKills');
    console.log(`total: ${total('killPoints')} kill points, ${total('randomKills')} random kills, ${total('landed')} killed, ${total('failures')} failures, ${total('skipped')} not reached; ${seconds.toFixed(0)} s with ${opts.workers} workers (${(tried / (seconds / 60)).toFixed(1)} kills per minute)`);
    for (const [i, code] of exits.entries()) if (code !== 0) console.log(`worker ${i} exited ${code}`);
    if (opts.json !== undefined) writeFileSync(opts.json, `${JSON.stringify({ seconds, workers: opts.workers, reports }, null, 2)}\n`);
    return total('failures') > 0 || exits.some((c) => c !== 0) ? 1 : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === SELF) {
  const worker = process.argv[2] === '--worker';
  (worker ? runWorker(process.argv[3], Number(process.argv[4])).then(() => 0) : main())
    .then((code) => process.exit(code))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
