/**
 * Layer: leaf (imports nothing of nsbox; every layer may use it).
 *
 * The cold-start trace: with NSBOX_TRACE_STARTUP=1 in the environment, `phase(NAME)` records
 * when each phase of a command ends, and at exit one table goes to stderr: Node's own start
 * (process start → bootstrap done → the entry script), then each phase with its duration since
 * the one before. `npm run bench -- run` prints the medians of many runs. Off (the default),
 * `phase` is one test of a constant and records nothing.
 */
const ON = process.env.NSBOX_TRACE_STARTUP === '1';
/** Marks made before this module loaded: bin/nsbox.cjs leaves its own here (reading, compiling the bundle). */
const early = (globalThis as { __nsboxEntryMarks?: [string, number][] }).__nsboxEntryMarks ?? [];
const marks: [string, number][] = [...early];

/** The phase `name` ends now (the time since the previous mark is its duration). */
export function phase(name: string): void {
  if (ON) marks.push([name, performance.now()]);
}

/** Whether tracing is on (so a caller can skip work that exists only for the trace). */
export function tracing(): boolean {
  return ON;
}

/**
 * The trace so far: [phase, ms since the previous phase] from process start, Node's own phases
 * first (from `performance.nodeTiming`, ms since the process started).
 */
export function traceRows(): [string, number][] {
  const t = performance.nodeTiming;
  const all: [string, number][] = [
    ['node: process start → V8 up', t.v8Start],
    ['node: bootstrap (built-ins, options, env)', t.environment],
    ['node: to the entry script', t.bootstrapComplete],
    ...marks,
  ];
  return all.map(([name, at], i) => [name, at - (i === 0 ? 0 : all[i - 1]![1])]);
}

if (ON) {
  // once: `nsbox exec` emits 'exit' itself before the process is replaced (cli/commands/exec.ts)
  process.once('exit', () => {
    phase('exit');
    const rows = traceRows();
    const lines = rows.map(([name, ms]) => `nsbox-trace ${ms.toFixed(2).padStart(8)} ms  ${name}`);
    const total = rows.reduce((s, [, ms]) => s + ms, 0);
    process.stderr.write(`${lines.join('\n')}\nnsbox-trace ${total.toFixed(2).padStart(8)} ms  total (process start → exit)\n`);
  });
}
