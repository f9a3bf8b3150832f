/**
 * Unit: the agent started on demand (src/agent/on-demand.ts) and the lifetime of an agent that
 * stops by itself (src/agent/server.ts, with a service made here: no root needed).
 * - startAgentOnDemand starts one detached process per root (its own session, cwd /, output
 *   in ROOT/agent.log, without the call's hand-off variables and Node options), records its pid,
 *   and starts none while that one lives or while another caller is starting one; a dead one's
 *   file, or an empty one left long ago, is replaced; a root it cannot write is no error.
 * - At most MAX_ON_DEMAND of them on the machine (the registry counts the live ones and drops
 *   the dead): past the cap none is started, and one gone makes room.
 * - NSBOX_AGENT=0 and =running, NSBOX_AGENT_SOCKET and --host/NSBOX_HOST start none.
 * - An agent with idleExitMs stops after that long without a call, never while a call is in
 *   flight; stops when its socket file is removed or replaced; an outdated agent declines the
 *   call with the reason and stops; buildChangedCheck sees its file change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_ON_DEMAND, buildChangedCheck, liveOnDemandAgents, mayStartOnDemand, onDemandAgent, onDemandFile, startAgentOnDemand } from '../../../src/agent/on-demand.js';
import { STATUS, decodeReply, encodeRequest, type AgentReply } from '../../../src/agent/protocol.js';
import { Agent } from '../../../src/agent/server.js';
import type { AgentService } from '../../../src/agent/service.js';
import { defaultSocket } from '../../../src/agent/socket-path.js';

/** A registry of on-demand agents of the test's own (never the machine's /run/nsbox). */
const registries = new WeakMap<object, string>();
function registryFor(t: { after: (fn: () => void) => void }): string {
  let dir = registries.get(t);
  if (dir === undefined) {
    dir = join(tempRoot(t), 'registry');
    registries.set(t, dir);
  }
  return dir;
}

function tempRoot(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'nsbox-od-'));
  chmodSync(dir, 0o700);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A stand-in for bin/nsbox.cjs: prints what it was started with (to ROOT/agent.log), then waits to be killed. */
function fakeEntry(root: string): string {
  const entry = join(root, 'fake-nsbox.cjs');
  writeFileSync(entry, `
    const { readlinkSync } = require('node:fs');
    const stat = require('node:fs').readFileSync('/proc/self/stat', 'latin1').split(') ')[1].split(' ');
    console.log(JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), pid: process.pid, sid: Number(stat[3]),
      stdin: readlinkSync('/proc/self/fd/0'), env: Object.keys(process.env).filter((k) => /^(NSBOX_|NODE_)/.test(k)).sort() }));
    setInterval(() => {}, 1000);`);
  return entry;
}

function kill(pid: number | undefined): void {
  try {
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

async function logged(root: string): Promise<{ argv: string[]; cwd: string; pid: number; sid: number; stdin: string; env: string[] }> {
  for (let i = 0; i < 200; i++) {
    const text = existsSync(join(root, 'agent.log')) ? readFileSync(join(root, 'agent.log'), 'utf8') : '';
    if (text.endsWith('\n')) return JSON.parse(text) as never;
    await sleep(20);
  }
  throw new Error('the started process printed nothing to agent.log');
}

/** Set `vars` (undefined: unset) in process.env for the duration of fn. */
function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>): void => {
    for (const [k, val] of Object.entries(v)) if (val === undefined) delete process.env[k]; else process.env[k] = val;
  };
  set(vars);
  try {
    return fn();
  } finally {
    set(saved);
  }
}

test('startAgentOnDemand: one detached agent per root, recorded; none while it lives; a dead one is replaced', async (t) => {
  const root = tempRoot(t);
  const entry = fakeEntry(root);
  const socket = defaultSocket(root);
  const pid = withEnv({ NSBOX_HANDOFF_TRIED: 'noagent', NODE_OPTIONS: '--no-warnings', NSBOX_SAVED_NODE_EXTRA_CA_CERTS: '/x', NSBOX_ROOT: root },
    () => startAgentOnDemand(root, entry, registryFor(t)));
  t.after(() => kill(pid));
  assert.ok(pid !== undefined && pid > 0);
  assert.equal(readFileSync(onDemandFile(socket), 'utf8'), `${pid}\n`);
  const seen = await logged(root);
  assert.deepEqual(seen.argv, ['--root', root, 'agent', '--on-demand']);
  assert.equal(seen.pid, pid);
  assert.equal(seen.sid, pid, 'its own session: no terminal signal of the caller reaches it');
  assert.equal(seen.cwd, '/', 'it holds no directory of the caller');
  assert.equal(seen.stdin, '/dev/null');
  assert.ok(seen.env.includes('NSBOX_ROOT'));
  assert.deepEqual(seen.env.filter((k) => /^(NSBOX_HANDOFF_|NSBOX_SAVED_|NODE_OPTIONS)/.test(k)), [], 'without the call\'s hand-off variables and Node options');
  assert.equal(onDemandAgent(socket), pid);
  assert.equal(startAgentOnDemand(root, entry, registryFor(t)), undefined, 'not a second one');

  kill(pid);
  for (let i = 0; i < 100 && onDemandAgent(socket) !== undefined; i++) await sleep(10);
  assert.equal(onDemandAgent(socket), undefined, 'a dead agent\'s file is stale');
  const again = startAgentOnDemand(root, entry, registryFor(t));
  t.after(() => kill(again));
  assert.ok(again !== undefined && again !== pid, 'started anew');
  assert.equal(readFileSync(onDemandFile(socket), 'utf8'), `${again}\n`);
});

test('at most MAX_ON_DEMAND on-demand agents: the registry lists each with its root; past the cap none is started; one gone makes room', async (t) => {
  const registry = registryFor(t);
  const pids: number[] = [];
  t.after(() => pids.forEach(kill));
  const roots = Array.from({ length: MAX_ON_DEMAND + 1 }, () => tempRoot(t));
  for (const root of roots.slice(0, MAX_ON_DEMAND)) {
    const pid = startAgentOnDemand(root, fakeEntry(root), registry);
    assert.ok(pid !== undefined, root);
    pids.push(pid);
    assert.equal(readFileSync(join(registry, String(pid)), 'utf8'), `${root}\n`);
  }
  assert.deepEqual(liveOnDemandAgents(registry).sort(), [...pids].sort());
  const last = roots[MAX_ON_DEMAND]!;
  assert.equal(startAgentOnDemand(last, fakeEntry(last), registry), undefined, 'past the cap');
  assert.ok(!existsSync(onDemandFile(defaultSocket(last))), 'no pid file left behind to block a later start');
  kill(pids[0]);
  for (let i = 0; i < 100 && liveOnDemandAgents(registry).length === MAX_ON_DEMAND; i++) await sleep(10);
  assert.ok(!existsSync(join(registry, String(pids[0]))), 'a dead agent\'s entry dropped');
  const pid = startAgentOnDemand(last, fakeEntry(last), registry);
  assert.ok(pid !== undefined, 'room again');
  pids.push(pid);
});

test('an empty pid file: another caller is starting one (none started); left long ago, it is replaced', (t) => {
  const root = tempRoot(t);
  const entry = fakeEntry(root);
  const file = onDemandFile(defaultSocket(root));
  writeFileSync(file, '');
  assert.equal(onDemandAgent(defaultSocket(root)), 0);
  assert.equal(startAgentOnDemand(root, entry, registryFor(t)), undefined);
  const past = new Date(Date.now() - 60_000);
  utimesSync(file, past, past);
  assert.equal(onDemandAgent(defaultSocket(root)), undefined);
  const pid = startAgentOnDemand(root, entry, registryFor(t));
  t.after(() => kill(pid));
  assert.ok(pid !== undefined);
  // a live process that is not an agent (a recycled pid) does not count either
  writeFileSync(file, `${process.pid}\n`);
  assert.equal(onDemandAgent(defaultSocket(root)), undefined);
});

test('a root that is not there or not writable: no agent, no error', (t) => {
  const root = tempRoot(t);
  assert.equal(startAgentOnDemand(join(root, 'missing'), fakeEntry(root), registryFor(t)), undefined);
  const ro = join(root, 'ro');
  mkdirSync(ro, { mode: 0o500 });
  if (process.getuid?.() === 0) {
    // root writes anyway: a regular file in the pid file's place is the unusable case here
    mkdirSync(onDemandFile(defaultSocket(ro)));
  }
  assert.equal(startAgentOnDemand(ro, fakeEntry(root), registryFor(t)), undefined);
});

test('mayStartOnDemand: off with NSBOX_AGENT=0 or running, NSBOX_AGENT_SOCKET, NSBOX_HOST or --host', () => {
  const base = { NSBOX_AGENT: undefined, NSBOX_AGENT_SOCKET: undefined, NSBOX_HOST: undefined };
  assert.equal(withEnv(base, () => mayStartOnDemand(['ls'])), true);
  assert.equal(withEnv({ ...base, NSBOX_AGENT: 'auto' }, () => mayStartOnDemand(['ls'])), true);
  assert.equal(withEnv({ ...base, NSBOX_AGENT: '0' }, () => mayStartOnDemand(['ls'])), false);
  assert.equal(withEnv({ ...base, NSBOX_AGENT: 'running' }, () => mayStartOnDemand(['ls'])), false);
  assert.equal(withEnv({ ...base, NSBOX_AGENT_SOCKET: '/tmp/x.sock' }, () => mayStartOnDemand(['ls'])), false);
  assert.equal(withEnv({ ...base, NSBOX_HOST: 'ssh://h' }, () => mayStartOnDemand(['ls'])), false);
  assert.equal(withEnv(base, () => mayStartOnDemand(['--host', 'ssh://h', 'ls'])), false);
});

test('buildChangedCheck: nothing while the file is as it was; a reason once it changed or went', (t) => {
  const root = tempRoot(t);
  const file = join(root, 'cli.hash.json');
  writeFileSync(file, '{"a":1}\n');
  const check = buildChangedCheck(file);
  assert.equal(check(), undefined);
  writeFileSync(file, '{"a":1}\n'); // rewritten the same
  assert.equal(check(), undefined);
  writeFileSync(file, '{"a":2}\n');
  assert.match(check() ?? '', /rebuilt or upgraded.*cli\.hash\.json changed/);
  unlinkSync(file);
  assert.match(check() ?? '', /rebuilt or upgraded/);
});

/** A service answering after `ms`, counting its calls. */
function slowService(ms: number): AgentService & { calls: number } {
  return {
    calls: 0,
    async handle() {
      this.calls++;
      await sleep(ms);
      return { status: STATUS.served, exitCode: 0, stdout: 'ok', stderr: '' };
    },
    describe: () => 'x',
    close: () => undefined,
  };
}

function call(socket: string): Promise<AgentReply | undefined> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    const chunks: Buffer[] = [];
    conn.on('data', (c: Buffer) => chunks.push(c));
    conn.on('error', reject);
    conn.on('end', () => resolve(decodeReply(Buffer.concat(chunks))));
    conn.end(encodeRequest({ kind: 'test', stdin: '', env: {} }));
  });
}

function startAgent(t: { after: (fn: () => void) => void }, options: Partial<ConstructorParameters<typeof Agent>[0]>, service = slowService(0)): { agent: Agent; served: Promise<void>; lines: string[]; socket: string } {
  const root = tempRoot(t);
  const lines: string[] = [];
  const socket = join(root, 'agent.sock');
  const agent = new Agent({ socket, services: new Map([['test', service]]), log: (l) => lines.push(l), ...options });
  const served = agent.serve();
  t.after(() => agent.stop());
  return { agent, served, lines, socket };
}

async function listening(socket: string): Promise<void> {
  for (let i = 0; i < 200 && !existsSync(socket); i++) await sleep(5);
}

test('idleExitMs: the agent stops after that long without a call, not while one is in flight', async (t) => {
  const service = slowService(400);
  const { served, lines, socket } = startAgent(t, { idleExitMs: 150 }, service);
  await listening(socket);
  const reply = await call(socket); // 400 ms: longer than the idle time
  assert.equal(reply?.stdout, 'ok', 'answered, not cut by the idle stop');
  const started = Date.now();
  await served;
  assert.ok(Date.now() - started >= 100, 'idle counted from the end of the call');
  assert.ok(lines.some((l) => /no call served for 0\.15 s: stopping/.test(l)), lines.join('\n'));
  assert.ok(!existsSync(socket), 'its socket removed');
  assert.equal(service.calls, 1);
});

test('declined calls are not activity: an agent that can only decline still stops when its idle time is up', async (t) => {
  const { served, lines, socket } = startAgent(t, { idleExitMs: 300 });
  await listening(socket);
  // Ten calls 100 ms apart: had each counted, the countdown would restart every time and all ten be answered.
  const answers: (number | undefined)[] = [];
  for (let i = 0; i < 10; i++) {
    answers.push(await new Promise<number | undefined>((resolve) => {
      const conn = connect(socket);
      const chunks: Buffer[] = [];
      conn.on('data', (c: Buffer) => chunks.push(c));
      conn.on('error', () => resolve(undefined)); // the agent has stopped
      conn.on('end', () => resolve(decodeReply(Buffer.concat(chunks))?.status));
      conn.end(encodeRequest({ kind: 'not-served-here', stdin: '', env: {} }));
    }));
    await sleep(100);
  }
  await served;
  assert.equal(answers[0], STATUS.declined);
  assert.ok(answers.includes(undefined), `stopped while the calls went on: ${JSON.stringify(answers)}`);
  assert.ok(lines.some((l) => /no call served for 0\.3 s: stopping/.test(l)), lines.join('\n'));
});

test('an agent whose socket file is removed or replaced stops', async (t) => {
  for (const how of ['removed', 'replaced'] as const) {
    const { served, lines, socket } = startAgent(t, { idleExitMs: 60_000, socketCheckMs: 30 });
    await listening(socket);
    unlinkSync(socket);
    if (how === 'replaced') writeFileSync(socket, '');
    await served;
    assert.ok(lines.some((l) => l.includes(`${socket} was ${how}: nobody can reach this agent`)), lines.join('\n'));
  }
});

test('an outdated agent declines the call with the reason, so its client runs it, and stops', async (t) => {
  const build: { changed?: string } = {};
  const service = slowService(0);
  const { served, lines, socket } = startAgent(t, { outdated: () => build.changed }, service);
  await listening(socket);
  assert.equal((await call(socket))?.status, STATUS.served);
  build.changed = 'nsbox was rebuilt';
  const reply = await call(socket);
  assert.deepEqual({ status: reply?.status, stderr: reply?.stderr }, { status: STATUS.declined, stderr: 'nsbox was rebuilt' });
  await served;
  assert.equal(service.calls, 1, 'the declined call never reached the service');
  assert.ok(lines.some((l) => l.includes('nsbox was rebuilt: declining calls, stopping')), lines.join('\n'));
});
