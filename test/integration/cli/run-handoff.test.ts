/**
 * Integration (root, throwaway host): `nsbox run` and `exec` handed to a running `nsbox agent`
 * (src/agent/run-service.ts) by both clients: the Node one (`node bin/nsbox.js`,
 * src/cli/run-handoff.ts) and the native one an installed `nsbox` uses (bin/nsbox →
 * native/handoff-client.c). With the agent (through either client) and without it
 * (NSBOX_AGENT=0) the same exit status, stdout and stderr for a command that prints and fails,
 * one that is not found, one killed by a signal, a bad option, a missing network and (exec) a
 * missing sandbox, with the
 * agent's log showing which calls it served and which it declined; nothing left after. The
 * agent killed while the command runs: the command finishes, the client removes the sandbox
 * itself and says so. The agent killed before the sandbox was ready: the client runs the
 * command itself. Without root, the same clear error with an agent as without. One name run 20
 * times in a row through the agent: each returns with its host veth end gone and its address free.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NSBOX_BIN, NSBOX_LAUNCHER, finished, rootForTest, waitForOutput, type CliResult, type NsboxRoot } from '../../helpers/cli.js';
import { links } from '../../helpers/host-links.js';
import { randomName } from '../../helpers/names.js';

interface Agent {
  child: ChildProcessWithoutNullStreams;
  log: () => string;
}

/** `nsbox agent` on the root, until the test ends (SIGTERM; SIGKILL'ed agents are just reaped). */
async function startAgent(t: TestContext, root: NsboxRoot): Promise<Agent> {
  const child = spawn(process.execPath, [NSBOX_BIN, 'agent'], { env: { ...process.env, NSBOX_ROOT: root.root } });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { log += d; });
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    await exited;
  });
  await waitForOutput(child, 'stderr', 'listening on');
  return { child, log: () => log };
}

/** The two clients: `node bin/nsbox.js` (the Node client) and bin/nsbox (the native one). */
const CLIENTS = [{ client: 'node', launcher: false }, { client: 'native', launcher: true }] as const;

/** `nsbox run ARGS…` through the agent (if one runs) by the client given, or not (NSBOX_AGENT=0). */
function run(root: NsboxRoot, args: readonly string[], viaAgent: boolean, launcher = false): Promise<CliResult> {
  return finished(root.start(['run', ...args], viaAgent ? {} : { NSBOX_AGENT: '0' }, { launcher }));
}

/** Sandbox names made by `run` differ from call to call. */
const sameText = (s: string): string => s.replace(/run-[0-9a-f]{8}/g, 'run-NAME');

function nothingLeft(root: NsboxRoot): Promise<void> {
  return root.json<{ name: string }[]>('ls').then((ls) => {
    assert.deepEqual(ls, [], 'no sandbox left');
    assert.deepEqual(root.netnsMounts(), [], 'no namespace left');
    assert.deepEqual(root.netnsSymlinks(), [], 'no /run/netns link left');
    assert.deepEqual(links().filter((l) => l.ifname.startsWith('vnsb')).map((l) => l.ifname), [], 'no host veth left');
  });
}

test('run and exec through the agent and without it: the same status, stdout and stderr; the agent served or declined each', async (t) => {
  const root = rootForTest(t);
  // The first run makes nsbox0 (in-process: the agent declines while the network is not there).
  assert.equal((await run(root, ['--', 'true'], false)).code, 0);
  const agent = await startAgent(t, root);
  const name = randomName();
  const cases: [string, string[]][] = [
    ['prints and fails', ['--', 'sh', '-c', 'echo out; echo err >&2; ls /sys/class/net; exit 3']],
    ['named, its files', ['--name', name, '--dns', '192.0.2.53', '--', 'sh', '-c', 'grep -c nameserver /etc/resolv.conf; grep -q "^nameserver 192.0.2.53" /etc/resolv.conf']],
    ['not found', ['--', 'nsbt-no-such-command']],
    ['killed by a signal', ['--', 'sh', '-c', 'kill -TERM $$']],
    ['SIGPIPE as the shell leaves it (yes ends quietly)', ['--', 'sh', '-c', 'yes | head -1']],
    ['bad --ip', ['--ip', 'nope', '--', 'true']],
    ['no such network', ['--network', 'nsbt-none', '--', 'true']],
  ];
  for (const [what, args] of cases) {
    const without = await run(root, args, false);
    for (const { client, launcher } of CLIENTS) {
      const withAgent = await run(root, args, true, launcher);
      assert.deepEqual(
        { code: withAgent.code, signal: withAgent.signal, stdout: sameText(withAgent.stdout), stderr: sameText(withAgent.stderr) },
        { code: without.code, signal: without.signal, stdout: sameText(without.stdout), stderr: sameText(without.stderr) },
        `${what} (${client} client)`,
      );
    }
  }
  // exec NAME -- CMD: the agent finds the sandbox and refreshes its files; the client starts CMD.
  const kept = randomName();
  assert.equal((await run(root, ['--name', kept, '--keep', '--', 'true'], false)).code, 0);
  const execCases: [string, string[]][] = [
    ['exec prints and fails', ['exec', kept, '--', 'sh', '-c', 'echo out; echo err >&2; ls /sys/class/net; grep -c "sandbox ' + kept + '" /etc/resolv.conf; exit 4']],
    ['exec not found', ['exec', kept, '--', 'nsbt-no-such-command']],
    ['exec killed by a signal', ['exec', kept, '--', 'sh', '-c', 'kill -TERM $$']],
    ['exec with SIGPIPE as the shell leaves it', ['exec', kept, '--', 'sh', '-c', 'yes | head -1']],
    ['exec of no such sandbox', ['exec', 'nsbt-none', '--', 'true']],
  ];
  for (const [what, args] of execCases) {
    const without = await finished(root.start(args, { NSBOX_AGENT: '0' }));
    for (const { client, launcher } of CLIENTS) {
      const withAgent = await finished(root.start(args, {}, { launcher }));
      assert.deepEqual(
        { code: withAgent.code, signal: withAgent.signal, stdout: withAgent.stdout, stderr: withAgent.stderr },
        { code: without.code, signal: without.signal, stdout: without.stdout, stderr: without.stderr },
        `${what} (${client} client)`,
      );
    }
  }
  // each served or declined once per client
  const execs = agent.log().split('\n').filter((l) => /^nsbox agent: exec /.test(l));
  assert.equal(execs.filter((l) => / exit 0$/.test(l)).length, 8, `8 served:\n${execs.join('\n')}`);
  assert.equal(execs.filter((l) => /declined: /.test(l)).length, 2, `2 declined:\n${execs.join('\n')}`);
  await root.ok('rm', kept);

  const served = agent.log().split('\n').filter((l) => /^nsbox agent: run /.test(l));
  assert.equal(served.filter((l) => / exit \d+$/.test(l)).length, 10, `10 served:\n${served.join('\n')}`);
  assert.match(served.join('\n'), new RegExp(`run ${name} .* exit 0$`, 'm'));
  assert.equal(served.filter((l) => /declined: /.test(l)).length, 4, `4 declined:\n${served.join('\n')}`);
  await nothingLeft(root);
});

test('one name run 20 times in a row through the agent: each run returns with its host veth end gone and its address free, so the next gets both again', async (t) => {
  const root = rootForTest(t);
  assert.equal((await run(root, ['--', 'true'], false)).code, 0); // nsbox0
  await startAgent(t, root);
  const name = randomName();
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const r = await run(root, ['--name', name, '--', 'sh', '-c', 'ip -4 -o addr show eth0 | cut -d" " -f7'], true, true);
    assert.equal(r.code, 0, r.stderr);
    seen.add(r.stdout.trim());
    // The agent answers once the kernel has unlisted the end (its final deletion goes on in the background).
    assert.deepEqual(links().filter((l) => l.ifname.startsWith('vnsb')).map((l) => l.ifname), [], `run ${i}: no host veth left when it returned`);
  }
  assert.equal(seen.size, 1, `the same address each time: ${[...seen].join(', ')}`);
  await nothingLeft(root);
});

for (const { client, launcher } of CLIENTS) {
test(`the agent killed while the command runs: the command finishes, the ${client} client removes the sandbox; killed before it was ready: the client runs it`, async (t) => {
  const root = rootForTest(t);
  assert.equal((await run(root, ['--', 'true'], false)).code, 0);
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-handoff-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const flag = join(dir, 'go');

  const agent = await startAgent(t, root);
  const running = root.start(['run', '--', 'sh', '-c', `echo started; while [ ! -e ${flag} ]; do sleep 0.05; done; echo done`], {}, { launcher });
  const done = finished(running);
  await waitForOutput(running, 'stdout', 'started');
  assert.equal((await root.json<{ name: string }[]>('ls')).length, 1, 'the sandbox is there');
  agent.child.kill('SIGKILL');
  await once(agent.child, 'exit');
  writeFileSync(flag, '');
  const res = await done;
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, 'started\ndone\n');
  assert.match(res.stderr, /the agent went away during the run; removing run-[0-9a-f]{8} here/);
  await nothingLeft(root);

  // Stopped, it accepts the connection (the kernel does) but never answers; then it dies.
  const stopped = await startAgent(t, root);
  stopped.child.kill('SIGSTOP');
  const early = root.start(['run', '--', 'echo', 'ran anyway'], {}, { launcher });
  const earlyDone = finished(early);
  await new Promise((r) => setTimeout(r, 500)); // let it connect (if not, it finds a dead agent's socket: the same outcome)
  stopped.child.kill('SIGKILL');
  const res2 = await earlyDone;
  assert.equal(res2.code, 0, res2.stderr);
  assert.equal(res2.stdout, 'ran anyway\n');
  await nothingLeft(root);
});
}

test('without root, the same clear error with an agent running as without one', async (t) => {
  const root = rootForTest(t);
  assert.equal((await run(root, ['--', 'true'], false)).code, 0);
  await startAgent(t, root);
  const nobody = (env: Record<string, string>, launcher = false): ReturnType<typeof spawnSync> => spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', ...(launcher ? [NSBOX_LAUNCHER] : [process.execPath, NSBOX_BIN]), 'run', '--', 'true'], {
    encoding: 'utf8', env: { PATH: process.env.PATH, NSBOX_ROOT: root.root, ...env },
  });
  const without = nobody({ NSBOX_AGENT: '0' });
  assert.notEqual(without.status, 0);
  for (const { client, launcher } of CLIENTS) {
    const withAgent = nobody({}, launcher);
    assert.deepEqual({ status: withAgent.status, stderr: withAgent.stderr }, { status: without.status, stderr: without.stderr }, `${client} client`);
    assert.doesNotMatch(String(withAgent.stderr), /\n\s+at /, 'no stack trace');
  }
  await nothingLeft(root);
});
