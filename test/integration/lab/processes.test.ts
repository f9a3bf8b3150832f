/**
 * Integration (root, throwaway host): a lab's processes under its supervisor, end to end
 * through bin/nsbox.js. busybox httpd in node a is ready by tcp and answers node b across the
 * lab's network; a second `up` keeps every pid; a changed definition restarts that process
 * only; `restart: on-failure` brings a SIGKILLed process back (new pid, restarts 1) while
 * `never` stays exited; STOP and CONT sent through the client show in /proc/PID/stat; `lab
 * logs` and `lab exec` (the node's env, exit codes); a SIGKILLed supervisor is replaced by the
 * next `up`, which leaves one copy of each process; a readiness timeout fails `up` with the
 * process's last log lines; `down` leaves no process in the nodes' namespaces and no file of
 * the supervisor.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Manager } from '../../../src/managed/index.js';
import { signalProcess } from '../../../src/lab/index.js';
import { rootForTest, type NsboxRoot } from '../../helpers/cli.js';
import { randomName } from '../../helpers/names.js';

const labFile = (lab: string, webEnv = 'one'): string => `lab: ${lab}
networks:
  lan: { subnet: 10.20.0.0/24 }
nodes:
  a:
    interfaces: { eth0: { network: lan, address: 10.20.0.11/24 } }
    env: { GREETING: hello-from-a }
    processes:
      - name: web
        cmd: [busybox, httpd, -f, -p, "8080", -h, "."]
        env: { WEB: ${webEnv} }
        ready: { tcp: 8080, timeout: 10s }
        restart: on-failure
        backoff: { initial: 50ms, max: 1s }
      - name: talk
        cmd: "echo $GREETING says hi; exec sleep 1000"
        ready: { log: "says hi", timeout: 10s }
      - name: once
        cmd: [sleep, "1000"]
  b:
    interfaces: { eth0: { network: lan, address: 10.20.0.12/24 } }
    processes:
      - name: probe
        cmd: [sleep, "1000"]
        ready: { command: [busybox, wget, -q, -O, /dev/null, "http://10.20.0.11:8080/index.html"], timeout: 10s }
`;

interface ProcessJson { node: string; process: string; pid?: number; state: string; restarts: number; lastExit?: { code: number | null; signal: string | null } }
interface StatusJson { supervisor: { running: boolean; pid?: number; processes: ProcessJson[] } }
interface UpJson { changed: boolean; steps: { key: string; action: string; detail: string }[] }

function labDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-proc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'index.html'), 'served by node a\n');
  return dir;
}

async function processes(r: NsboxRoot, lab: string): Promise<Map<string, ProcessJson>> {
  const st = await r.json<StatusJson>('lab', 'status', lab);
  return new Map(st.supervisor.processes.map((p) => [`${p.node}/${p.process}`, p]));
}

/** Poll the status until `ok` holds (20 s at most: a bound for a broken supervisor, not a measured time). */
async function until(r: NsboxRoot, lab: string, what: string, ok: (p: Map<string, ProcessJson>) => boolean): Promise<Map<string, ProcessJson>> {
  let last = new Map<string, ProcessJson>();
  for (let i = 0; i < 200; i++) {
    last = await processes(r, lab);
    if (ok(last)) return last;
    await sleep(100);
  }
  assert.fail(`${what}: ${JSON.stringify([...last.values()])}`);
}

const netnsInode = (r: NsboxRoot, sandbox: string): number => statSync(join(r.root, 'run', 'netns', sandbox)).ino;

/** Pids of live processes in these network namespaces. */
function pidsIn(inodes: readonly number[]): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${d}/ns/net`));
      const state = readFileSync(`/proc/${d}/stat`, 'latin1').split(') ')[1]?.[0];
      if (m && inodes.includes(Number(m[1])) && state !== 'Z') out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

const procState = (pid: number): string => readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]![0]!;
const comm = (pid: number): string => { try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; } };

test('lab processes: tcp/log/command readiness, traffic across the lab, idempotent up, a changed definition, restarts, signals, logs, exec, a killed supervisor, down', async (t) => {
  const r = rootForTest(t);
  const lab = randomName('lab');
  const dir = labDir(t);
  const file = join(dir, 'lab.yaml');
  writeFileSync(file, labFile(lab));
  t.after(() => r.run('lab', 'down', lab));

  const up = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.deepEqual(up.steps.filter((s) => s.key.startsWith('process:')).map((s) => `${s.action} ${s.key}`).sort(),
    ['create process:a/once', 'create process:a/talk', 'create process:a/web', 'create process:b/probe']);
  let ps = await processes(r, lab);
  assert.deepEqual([...ps.values()].map((p) => `${p.node}/${p.process} ${p.state}`), ['a/web ready', 'a/talk ready', 'a/once ready', 'b/probe ready']);
  const web = ps.get('a/web')!.pid!;
  assert.equal(comm(web), 'busybox');
  const inodes = [netnsInode(r, `${lab}.a`), netnsInode(r, `${lab}.b`)];
  assert.ok(pidsIn([inodes[0]!]).includes(web), 'httpd runs in node a\'s namespace');

  // Node b reaches a's server across the lab (b's probe process was ready by the same request).
  const got = await r.run('lab', 'exec', lab, 'b', '--', 'busybox', 'wget', '-q', '-O', '-', 'http://10.20.0.11:8080/index.html');
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout, 'served by node a\n');

  // lab exec: the node's env, the exit code passed through; an unknown node is not found.
  const env = await r.run('lab', 'exec', lab, 'a', '--', 'sh', '-c', 'echo $GREETING; exit 7');
  assert.equal(env.code, 7);
  assert.equal(env.stdout, 'hello-from-a\n');
  assert.equal((await r.run('lab', 'exec', lab, 'a', '--', 'true')).code, 0);
  assert.equal((await r.run('lab', 'exec', lab, 'nope', '--', 'true')).code, 3);

  // lab logs: a process's output; a node's with each line's process.
  assert.equal(await r.ok('lab', 'logs', lab, 'a/talk'), 'hello-from-a says hi\n');
  assert.match(await r.ok('lab', 'logs', lab, 'a', '--tail', '5'), /^talk \| hello-from-a says hi$/m);
  assert.equal((await r.run('lab', 'logs', lab, 'a/nope')).code, 3);

  // A second up of the same file: no step, the same pids.
  const before = [...ps.values()].map((p) => p.pid);
  const again = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.equal(again.changed, false, JSON.stringify(again.steps));
  assert.deepEqual([...(await processes(r, lab)).values()].map((p) => p.pid), before);

  // A changed definition restarts that process only.
  writeFileSync(file, labFile(lab, 'two'));
  const changed = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.deepEqual(changed.steps.filter((s) => s.key.startsWith('process:')).map((s) => `${s.action} ${s.key}`), ['change process:a/web']);
  ps = await processes(r, lab);
  assert.notEqual(ps.get('a/web')!.pid, web);
  assert.equal(ps.get('a/web')!.state, 'ready');
  assert.deepEqual([ps.get('a/talk')!.pid, ps.get('a/once')!.pid, ps.get('b/probe')!.pid], before.slice(1));
  assert.equal(pidsIn(inodes).filter((p) => p === web).length, 0, 'the old httpd is gone');

  // kill -9: on-failure comes back with a new pid and restarts 1; never stays exited.
  const web2 = ps.get('a/web')!.pid!;
  const once = ps.get('a/once')!.pid!;
  process.kill(web2, 'SIGKILL');
  process.kill(once, 'SIGKILL');
  ps = await until(r, lab, 'web restarted, once exited', (m) => m.get('a/web')!.state === 'ready' && m.get('a/web')!.pid !== web2 && m.get('a/once')!.state === 'exited');
  assert.equal(ps.get('a/web')!.restarts, 1);
  assert.equal(ps.get('a/web')!.lastExit?.signal, 'SIGKILL');
  assert.equal(ps.get('a/once')!.restarts, 0);
  assert.equal(ps.get('a/once')!.pid, undefined);
  assert.equal(ps.get('a/once')!.lastExit?.signal, 'SIGKILL');
  assert.equal(existsSync(`/proc/${once}`) && procState(once) !== 'Z', false);

  // STOP and CONT through the client (what a signal fault sends), seen in /proc/PID/stat.
  const manager = Manager.open({ root: r.root });
  t.after(() => manager.close());
  const talk = ps.get('a/talk')!.pid!;
  await signalProcess(manager, lab, 'a', 'talk', 'STOP');
  for (let i = 0; i < 100 && procState(talk) !== 'T'; i++) await sleep(20);
  assert.equal(procState(talk), 'T');
  await signalProcess(manager, lab, 'a', 'talk', 'CONT');
  for (let i = 0; i < 100 && procState(talk) === 'T'; i++) await sleep(20);
  assert.notEqual(procState(talk), 'T');
  await assert.rejects(signalProcess(manager, lab, 'a', 'talk', 'BOGUS'), /expected one of/);
  await assert.rejects(signalProcess(manager, lab, 'a', 'nope', 'TERM'), /has no process a\/nope/);

  // The supervisor SIGKILLed: its processes outlive it; the next up starts a new supervisor, which
  // kills them and starts one copy of each.
  const st = await r.json<StatusJson>('lab', 'status', lab);
  const supervisor = st.supervisor.pid!;
  const running = pidsIn(inodes);
  process.kill(supervisor, 'SIGKILL');
  for (let i = 0; i < 100 && existsSync(`/proc/${supervisor}`) && procState(supervisor) !== 'Z'; i++) await sleep(20);
  assert.equal((await r.json<StatusJson>('lab', 'status', lab)).supervisor.running, false);
  assert.ok(running.every((p) => existsSync(`/proc/${p}`)), 'the processes outlive the supervisor');
  const revived = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.equal(revived.steps.filter((s) => s.key.startsWith('process:')).length, 4, JSON.stringify(revived.steps));
  const after = await r.json<StatusJson>('lab', 'status', lab);
  assert.equal(after.supervisor.running, true);
  assert.notEqual(after.supervisor.pid, supervisor);
  const now = pidsIn(inodes);
  assert.deepEqual(now.filter((p) => running.includes(p)), [], 'no process of the dead supervisor lives on');
  assert.deepEqual(now.sort(), after.supervisor.processes.map((p) => p.pid!).sort(), 'one copy of each process, nothing else');
  assert.equal(now.map(comm).filter((c) => c === 'busybox').length, 1, 'one httpd');

  // down: the supervisor stops first; nothing of the lab runs, its directory is gone.
  const paths = join(r.root, 'labs', lab);
  assert.ok(existsSync(join(paths, 'supervisor.sock')) && existsSync(join(paths, 'supervisor.lock')));
  const gone = await r.run('lab', 'down', lab);
  assert.equal(gone.code, 0, gone.stderr);
  assert.deepEqual(pidsIn(inodes), [], 'no process in the nodes\' namespaces');
  assert.ok(!existsSync(`/proc/${after.supervisor.pid}`) || procState(after.supervisor.pid!) === 'Z', 'the supervisor is gone');
  assert.equal(existsSync(paths), false, 'no socket, lock or log left');
});

test('lab processes: a process not ready in time fails up with its name and its last log lines; the next up of a fixed file starts it; gc kills what a dead supervisor left', async (t) => {
  const r = rootForTest(t);
  const lab = randomName('lab');
  const dir = labDir(t);
  const file = join(dir, 'lab.yaml');
  const text = (ready: string): string => `lab: ${lab}
nodes:
  a:
    processes:
      - name: slow
        cmd: "echo booting slowly; echo still booting >&2; exec sleep 1000"
        ready: { ${ready}, timeout: 500ms }
      - name: after
        cmd: [sleep, "1000"]
`;
  writeFileSync(file, text('tcp: 9'));
  t.after(() => r.run('lab', 'down', lab));
  const failed = await r.run('lab', 'up', '-f', file);
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /process a\/slow of lab \S+ failed: not ready within 500 ms \(tcp 127\.0\.0\.1:9\)/);
  assert.match(failed.stderr, /booting slowly/);
  assert.match(failed.stderr, /still booting/);
  assert.match(failed.stderr, /process a\/after of lab \S+ did not start: not started: a\/slow before it in node a is not ready/);
  const st = await r.json<StatusJson>('lab', 'status', lab);
  assert.deepEqual(st.supervisor.processes.map((p) => `${p.process} ${p.state} ${p.pid ?? '-'}`), ['slow failed -', 'after pending -']);

  writeFileSync(file, text('log: "booting slowly"'));
  const fixed = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.deepEqual(fixed.steps.filter((s) => s.key.startsWith('process:')).map((s) => `${s.action} ${s.key}`), ['change process:a/slow', 'change process:a/after']);
  const ok = await r.json<StatusJson>('lab', 'status', lab);
  assert.deepEqual(ok.supervisor.processes.map((p) => `${p.process} ${p.state}`), ['slow ready', 'after ready']);

  // The supervisor SIGKILLed, then `nsbox gc`: its processes are killed; `down` still works.
  const pids = ok.supervisor.processes.map((p) => p.pid!);
  process.kill(ok.supervisor.pid!, 'SIGKILL');
  for (let i = 0; i < 100 && (await r.json<StatusJson>('lab', 'status', lab)).supervisor.running; i++) await sleep(50);
  assert.ok(pids.every((p) => existsSync(`/proc/${p}`)), 'they outlive the supervisor');
  assert.match(await r.ok('gc'), /killed 2 process\(es\) of lab \S+ left by its dead supervisor/);
  assert.deepEqual(pids.filter((p) => existsSync(`/proc/${p}`) && procState(p) !== 'Z'), []);
  const down = await r.run('lab', 'down', lab);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(existsSync(join(r.root, 'labs', lab)), false);
});
