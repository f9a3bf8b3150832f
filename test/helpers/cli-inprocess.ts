/**
 * Test helper: the CLI run in-process many times in one child process (cli-harness.ts), for
 * fuzzing: each call is `main(argv)` of the same bundle bin/nsbox.cjs runs, with its own
 * state root (NSBOX_ROOT) and working directory. argv may hold what execve cannot pass
 * (a NUL). A call that does not answer within `ms` fails the test (the child is killed).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface HarnessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** An exception or rejection that escaped main, or a process.exit call. */
  crash?: string;
}

const HARNESS = fileURLToPath(new URL('./cli-harness.js', import.meta.url));

export class CliHarness {
  readonly #child: ChildProcess;
  readonly #ready: Promise<unknown>;
  readonly #exited: Promise<[number | null, NodeJS.Signals | null]>;

  constructor(env: NodeJS.ProcessEnv, cwd: string) {
    this.#child = fork(HARNESS, [], { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    this.#ready = once(this.#child, 'message');
    this.#exited = once(this.#child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  }

  async run(argv: readonly string[], ms = 30_000): Promise<HarnessResult> {
    await this.#ready;
    const answer = once(this.#child, 'message') as Promise<[HarnessResult]>;
    const exited = this.#exited.then(([code, signal]) => { throw new Error(`the harness exited (${code ?? signal}) running ${JSON.stringify(argv)}`); });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms to ${JSON.stringify(argv)}`)), ms);
    });
    this.#child.send([...argv]);
    try {
      const [res] = await Promise.race([answer, exited, late]);
      return res;
    } finally {
      clearTimeout(timer);
      exited.catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGKILL');
    await this.#exited;
  }
}
