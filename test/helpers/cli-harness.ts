/**
 * Test helper (a child process, not a test): runs the CLI's `main(argv)` from the bundle
 * (dist/cli.cjs, what bin/nsbox.cjs runs) in-process, once per message, for fuzzing many argv
 * at the cost of one Node start. Started by `CliHarness` (cli-inprocess.ts) with an IPC
 * channel; each message is an argv, each answer `{ code, stdout, stderr, crash }`: what main
 * returned and printed, and whatever escaped it (an exception or rejection main let through,
 * or a call to process.exit), which the bin would print as a stack trace.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { main } = require('../../cli.cjs') as { main: (argv: string[]) => Promise<number> };

let stdout = '';
let stderr = '';
let crash: string | undefined;
const capture = (sink: 'out' | 'err') => (chunk: unknown, ...rest: unknown[]): boolean => {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
  if (sink === 'out') stdout += text; else stderr += text;
  const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
  cb?.();
  return true;
};
process.stdout.write = capture('out') as typeof process.stdout.write;
process.stderr.write = capture('err') as typeof process.stderr.write;
process.stdout.setMaxListeners(0); // main adds an EPIPE listener per call
process.on('uncaughtException', (err) => { crash ??= `uncaught: ${err.stack ?? String(err)}`; });
process.on('unhandledRejection', (err) => { crash ??= `unhandled rejection: ${(err as Error)?.stack ?? String(err)}`; });
process.exit = ((code?: number) => { throw new Error(`process.exit(${code}) called`); }) as typeof process.exit;

process.on('message', (argv: string[]) => {
  stdout = '';
  stderr = '';
  crash = undefined;
  void (async () => {
    let code: number | null = null;
    try {
      code = await main(argv);
    } catch (err) {
      crash ??= `main threw: ${(err as Error)?.stack ?? String(err)}`;
    }
    // let stray timers or rejections of this run surface before answering
    await new Promise((r) => setImmediate(r));
    process.send!({ code, stdout, stderr, crash });
  })();
});
process.send!({ ready: true });
