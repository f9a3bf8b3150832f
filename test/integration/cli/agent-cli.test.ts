/**
 * Integration (root, throwaway host): `nsbox ls`, `inspect`, `create` and `rm` run by a
 * running `nsbox agent` for the installed `nsbox` (bin/nsbox → native/handoff-client.c →
 * src/agent/cli-service.ts). Against the same state, with the agent and without it
 * (NSBOX_AGENT=0) the same exit status, stdout and stderr, errors and --json included, with
 * the agent's log showing it served each; a client in another mount namespace is declined and
 * runs the CLI itself; 12 creates side by side through the agent all land, and nothing is left.
 * The agent as installed runs with a thread pool of 32 unless UV_THREADPOOL_SIZE says otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { NSBOX_BIN, NSBOX_LAUNCHER, finished, rootForTest, waitForOutput, type CliResult, type NsboxRoot } from '../../helpers/cli.js';

/** `nsbox agent` on the root: by `node bin/nsbox.js`, or as installed (the launcher). */
async function startAgent(root: NsboxRoot, env: NodeJS.ProcessEnv = process.env, launcher = false): Promise<{ child: ChildProcessWithoutNullStreams; log: () => string }> {
  const [file, args] = launcher ? [NSBOX_LAUNCHER, ['agent']] : [process.execPath, [NSBOX_BIN, 'agent']];
  const child = spawn(file, args, { env: { ...env, NSBOX_ROOT: root.root } });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { log += d; });
  await waitForOutput(child, 'stderr', 'listening on');
  return { child, log: () => log };
}

/** `nsbox ARGS…` as installed (the launcher), through the agent or not. */
function nsbox(root: NsboxRoot, args: readonly string[], viaAgent: boolean): Promise<CliResult> {
  return finished(root.start(args, viaAgent ? {} : { NSBOX_AGENT: '0' }, { launcher: true }));
}

const outcome = (r: CliResult): Omit<CliResult, 'signal'> => ({ code: r.code, stdout: r.stdout, stderr: r.stderr });
/** A sandbox made again has a new creation time: the one thing a change's output may differ in. */
const sameChange = (r: CliResult): Omit<CliResult, 'signal'> => ({ ...outcome(r), stdout: r.stdout.replace(/"createdAt": "[^"]+"/g, '"createdAt": "T"') });

test('ls, inspect, create and rm through the agent: the same status, stdout and stderr as without it', async (t) => {
  const root = rootForTest(t);
  const agent = await startAgent(root);
  t.after(async () => {
    const exited = once(agent.child, 'exit');
    agent.child.kill('SIGTERM');
    await exited;
  });
  // a look, against the same state both ways
  const looks = [['ls'], ['--json', 'ls'], ['inspect', 'nsbt-none'], ['--json', 'inspect', 'nsbt-none'], ['ls', '--bogus']];
  // a change, made without the agent, undone, then made through it: `undo` (untimed) between
  const changes: [string[], string[] | undefined][] = [
    [['create', 'ca', 'cb'], ['rm', 'ca', 'cb']],
    [['create', 'bad name'], undefined],
    [['--json', 'create', 'cc'], ['rm', 'cc']],
  ];
  for (const args of looks) assert.deepEqual(outcome(await nsbox(root, args, true)), outcome(await nsbox(root, args, false)), args.join(' '));
  for (const [args, undo] of changes) {
    const without = await nsbox(root, args, false);
    if (undo !== undefined) await root.ok(...undo);
    const withAgent = await nsbox(root, args, true);
    assert.deepEqual(sameChange(withAgent), sameChange(without), args.join(' '));
  }
  // with sandboxes there: looks, a second create of one, and removals
  for (const args of [['ls'], ['--json', 'ls'], ['inspect', 'ca'], ['--json', 'inspect', 'cb'], ['create', 'ca']]) {
    assert.deepEqual(outcome(await nsbox(root, args, true)), outcome(await nsbox(root, args, false)), args.join(' '));
  }
  const rmWith = await nsbox(root, ['rm', 'ca', 'nsbt-none'], true);
  await root.ok('create', 'ca');
  const rmWithout = await nsbox(root, ['rm', 'ca', 'nsbt-none'], false);
  assert.deepEqual(outcome(rmWith), outcome(rmWithout), 'rm of one there and one not');
  const served = agent.log().split('\n').filter((l) => /^nsbox agent: cli /.test(l));
  assert.equal(served.length, looks.length + changes.length + 5 + 1, `each call with the agent served by it:\n${agent.log()}`);

  // another mount namespace: declined, and the CLI there says what it says without the agent
  const elsewhere = await finished(spawn('unshare', ['--mount', '--propagation', 'slave', NSBOX_LAUNCHER, 'ls'], { env: { ...process.env, NSBOX_ROOT: root.root } }));
  assert.deepEqual(outcome(elsewhere), outcome(await nsbox(root, ['ls'], false)), 'ls from another mount namespace');
  assert.match(agent.log(), /cli ls .*declined: the client is in another mount or network namespace/);

  // side by side
  const names = Array.from({ length: 12 }, (_, i) => `par${i}`);
  const results = await Promise.all(names.map((n) => nsbox(root, ['create', n], true)));
  for (const [i, r] of results.entries()) assert.equal(r.code, 0, `create ${names[i]}: ${r.stderr}`);
  const listed = (await root.json<{ name: string }[]>('ls')).map((s) => s.name).sort();
  assert.deepEqual(listed, [...names, 'cb', 'cc'].sort());
  assert.equal((await nsbox(root, ['rm', '--all'], true)).code, 0);
  assert.deepEqual(await root.json('ls'), []);
});

test('the agent as installed runs with a thread pool of 32 (link deletions wait there for the kernel), unless UV_THREADPOOL_SIZE says otherwise', async (t) => {
  const threads = async (env: NodeJS.ProcessEnv): Promise<number> => {
    const agent = await startAgent(rootForTest(t), env, true);
    try {
      return readdirSync(`/proc/${agent.child.pid}/task`).length;
    } finally {
      const exited = once(agent.child, 'exit');
      agent.child.kill('SIGTERM');
      await exited;
    }
  };
  const { UV_THREADPOOL_SIZE: _, ...unset } = process.env;
  const sized = await threads(unset);
  const four = await threads({ ...unset, UV_THREADPOOL_SIZE: '4' });
  // libuv starts every pool thread at once; Node's own threads are the same in both.
  assert.equal(sized - four, 28, `${sized} threads by default, ${four} with UV_THREADPOOL_SIZE=4`);
});
