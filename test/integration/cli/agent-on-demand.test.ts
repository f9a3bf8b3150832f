/**
 * Integration (root, throwaway host): the agent the installed `nsbox` starts on demand
 * (src/agent/on-demand.ts). With NSBOX_AGENT unset (here: `auto`; the test runner sets
 * `running`):
 * - ten first calls at once, with no agent, run in-process, all succeed, return although the
 *   agent they started lives on (their output pipes close), and start exactly one agent;
 * - the calls after them are served without Node: `ls`, `inspect` and a `run` succeed with no
 *   `node` on PATH, with the output the CLI gives without an agent;
 * - an `nsbox agent` started by hand stops the on-demand one and serves in its place;
 * - NSBOX_AGENT=running or 0, or NSBOX_AGENT_SOCKET, start none;
 * - an on-demand agent stops by itself after its idle time, removing its socket, its pid file
 *   and its entry in the machine's registry (/run/nsbox/on-demand).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { finished, rootForTest, waitForOutput, type CliResult, type NsboxRoot } from '../../helpers/cli.js';

const AUTO = { NSBOX_AGENT: 'auto' };

/** `nsbox ARGS…` as installed (the launcher). */
function nsbox(root: NsboxRoot, args: readonly string[], env: NodeJS.ProcessEnv = AUTO): Promise<CliResult> {
  return finished(root.start(args, env, { launcher: true }));
}

/** The pids of `nsbox agent` processes of this root (their command line or NSBOX_ROOT names it). */
function agentsOf(root: NsboxRoot): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0');
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      if (argv.includes('agent') && (argv.includes(root.root) || env.includes(`NSBOX_ROOT=${root.root}`))) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Stop what agents of the root are left when the test ends (a failed one leaves them). */
function stopAgentsAfter(t: { after: (fn: () => Promise<void>) => void }, root: NsboxRoot): void {
  t.after(async () => {
    for (const pid of agentsOf(root)) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
    }
    await until('the agents to stop', () => agentsOf(root).length === 0);
  });
}

const onDemandPid = (root: NsboxRoot): number | undefined => {
  try {
    return Number(readFileSync(join(root.root, 'agent.sock.on-demand'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
};

const outcome = (r: CliResult): Omit<CliResult, 'signal'> => ({ code: r.code, stdout: r.stdout, stderr: r.stderr });

test('no agent: ten first calls at once run in-process and start one agent; the calls after it are served without Node; one started by hand takes its place', async (t) => {
  const root = rootForTest(t);
  stopAgentsAfter(t, root);
  await root.ok('ls'); // the root exists (a first call on a root not made yet starts no agent)
  const names = Array.from({ length: 10 }, (_, i) => `od${i}`);
  const first = await Promise.all(names.map((n) => nsbox(root, ['create', n])));
  for (const [i, r] of first.entries()) assert.equal(r.code, 0, `create ${names[i]}: ${r.stderr}`);
  await until('the on-demand agent to listen', () => existsSync(join(root.root, 'agent.sock')) && onDemandPid(root) !== undefined);
  const pid = onDemandPid(root)!;
  assert.deepEqual(agentsOf(root), [pid], 'one agent for the ten calls');
  assert.match(readFileSync(join(root.root, 'agent.log'), 'utf8'), new RegExp(`listening on .*agent\\.sock \\(pid ${pid}\\), stopping after 600 s without a call`));

  // No `node` on PATH: only a call served by the agent can succeed.
  const empty = mkdtempSync(join(tmpdir(), 'nsbt-nopath-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  const noNode = { ...AUTO, PATH: empty };
  for (const args of [['ls'], ['--json', 'inspect', 'od3'], ['inspect', 'nsbt-none']]) {
    const served = await nsbox(root, args, noNode);
    assert.deepEqual(outcome(served), outcome(await nsbox(root, args, { NSBOX_AGENT: '0' })), args.join(' '));
  }
  // The first run on a root makes its default network: the CLI's work (the agent declines it).
  assert.equal((await nsbox(root, ['run', '--', '/bin/true'])).code, 0);
  const run = await nsbox(root, ['run', '--', '/bin/echo', 'hi from a sandbox'], noNode);
  assert.deepEqual(outcome(run), { code: 0, stdout: 'hi from a sandbox\n', stderr: '' });
  const shouldFail = await nsbox(root, ['ls'], { NSBOX_AGENT: '0', PATH: empty });
  assert.notEqual(shouldFail.code, 0, 'without the agent the same call needs node: the check above means something');
  assert.deepEqual(agentsOf(root), [pid], 'still the one agent');

  // `nsbox agent` by hand: the on-demand agent steps aside.
  const byHand = root.start(['agent'], {}, { launcher: true });
  await waitForOutput(byHand, 'stderr', 'listening on');
  await until('the on-demand agent to exit', () => !agentsOf(root).includes(pid));
  assert.equal(onDemandPid(root), undefined, 'its pid file removed');
  assert.match(readFileSync(join(root.root, 'agent.log'), 'utf8'), /SIGTERM: finishing the calls in flight\n.*stopped/);
  assert.deepEqual(agentsOf(root), [byHand.pid]);
  const listed = await nsbox(root, ['--json', 'ls'], noNode);
  assert.deepEqual((JSON.parse(listed.stdout) as { name: string }[]).map((s) => s.name).sort(), names);
  const exited = once(byHand, 'exit');
  byHand.kill('SIGTERM');
  await exited;
  await root.ok('rm', '--all');
});

test('NSBOX_AGENT=running or 0, or a socket given by NSBOX_AGENT_SOCKET: a call that finds no agent starts none', async (t) => {
  const root = rootForTest(t);
  stopAgentsAfter(t, root);
  await root.ok('ls'); // the root exists
  for (const env of [{ NSBOX_AGENT: 'running' }, { NSBOX_AGENT: '0' }, { ...AUTO, NSBOX_AGENT_SOCKET: join(root.root, 'elsewhere.sock') }]) {
    const r = await nsbox(root, ['ls'], env);
    assert.equal(r.code, 0, r.stderr);
    // The agent is started before the call exits: had one been, its pid file would be there now.
    assert.equal(onDemandPid(root), undefined, JSON.stringify(env));
    assert.deepEqual(agentsOf(root), [], JSON.stringify(env));
  }
});

test('an on-demand agent stops by itself after its idle time: socket and pid file removed, exit 0', async (t) => {
  const root = rootForTest(t);
  stopAgentsAfter(t, root);
  const agent = root.start(['agent', '--on-demand', '--idle-exit', '1'], {}, { launcher: true });
  const result = finished(agent);
  await waitForOutput(agent, 'stderr', 'listening on');
  assert.equal(onDemandPid(root), agent.pid, 'it names itself in the pid file');
  assert.equal(readFileSync(`/run/nsbox/on-demand/${agent.pid}`, 'utf8'), `${root.root}\n`, 'and in the machine\'s registry');
  const r = await result;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /no call served for 1 s: stopping/);
  assert.ok(!existsSync(join(root.root, 'agent.sock')), 'socket removed');
  assert.equal(onDemandPid(root), undefined, 'pid file removed');
  assert.ok(!existsSync(`/run/nsbox/on-demand/${agent.pid}`), 'registry entry removed');
});
