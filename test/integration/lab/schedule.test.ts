/**
 * Integration (root, throwaway host): the lab supervisor's timers, end to end through
 * bin/nsbox.js. The file's schedule applies a named partition after the lab is up (the status
 * shows the step done and the fault active, and the partition holds both ways); a second `up`
 * of the same file does not run it again; a partition applied `--for 1s` is healed by the
 * supervisor without any command (traffic flows again), and a fault applied `--for` starts the
 * supervisor of a lab that had none; a STOP signal fault stops a process and its heal continues it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NsboxRoot } from '../../helpers/cli.js';
import { labRootForTest } from '../../helpers/lab-root.js';
import { randomName } from '../../helpers/names.js';

const labText = (lab: string, extra: string, withProcess = true): string => `lab: ${lab}
networks:
  lan: { subnet: 10.79.0.0/24 }
nodes:
  a:
    interfaces: { eth0: { network: lan, address: 10.79.0.11/24 } }
${withProcess ? '    processes:\n      - name: sleeper\n        cmd: [sleep, "1000"]\n' : ''}  b:
    interfaces: { eth0: { network: lan, address: 10.79.0.12/24 } }
faults:
  split: { partition: [[a], [b]] }
${withProcess ? '  pause: { signal: { node: a, process: sleeper, signal: STOP } }\n' : ''}${extra}`;

interface StatusJson {
  faults: { name: string }[];
  supervisor: { running: boolean; pid?: number; processes: { process: string; pid?: number }[]; timers?: { schedule: { fault: string; state: string }[] } };
}

const pings = async (r: NsboxRoot, lab: string, from: string, to: string): Promise<boolean> =>
  (await r.run('lab', 'exec', lab, from, '--', 'ping', '-n', '-q', '-c', '1', '-W', '1', to)).code === 0;

/** Poll `lab status` until `ok` (30 s at most: a bound for a broken timer, not a measured time). */
async function until(r: NsboxRoot, lab: string, what: string, ok: (s: StatusJson) => boolean): Promise<StatusJson> {
  let last: StatusJson | undefined;
  for (let i = 0; i < 150; i++) {
    last = await r.json<StatusJson>('lab', 'status', lab);
    if (ok(last)) return last;
    await sleep(200);
  }
  assert.fail(`${what}: ${JSON.stringify(last)}`);
}

const procState = (pid: number): string => readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]![0]!;

void test('lab timers: the schedule applies a partition once; --for heals by itself; a STOP signal fault and its heal', async (t) => {
  const r = labRootForTest(t);
  const lab = randomName('lab');
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-sched-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'lab.yaml');
  writeFileSync(file, labText(lab, 'schedule:\n  - { at: 500ms, apply: split }\n'));

  assert.equal((await r.run('lab', 'up', '-f', file)).code, 0);
  const st = await until(r, lab, 'the schedule step ran', (s) => s.supervisor.timers?.schedule[0]?.state === 'done');
  assert.deepEqual(st.faults.map((f) => f.name), ['split']);
  assert.equal(await pings(r, lab, 'a', '10.79.0.12'), false, 'a -/-> b');
  assert.equal(await pings(r, lab, 'b', '10.79.0.11'), false, 'b -/-> a');
  assert.match(await r.ok('lab', 'status', lab), /schedule: 1 of 1 step\(s\) run/);

  assert.equal((await r.run('lab', 'fault', 'heal', lab, 'split')).code, 0);
  assert.equal(await pings(r, lab, 'a', '10.79.0.12'), true);
  const again = await r.json<{ changed: boolean }>('lab', 'up', '-f', file);
  assert.equal(again.changed, false, 'the same schedule is not started again');
  await sleep(800);
  assert.deepEqual((await r.json<StatusJson>('lab', 'status', lab)).faults, [], 'the step did not run twice');

  // --for: the supervisor heals it, no command needed.
  // 5 s: the ping below is a whole `nsbox lab exec` away, over a second on a loaded machine (a
  // fresh-clone run at load 20 saw the 1 s partition heal before it).
  const cut = await r.run('lab', 'partition', lab, 'a', 'b', '--for', '5s');
  assert.equal(cut.code, 0, cut.stderr);
  assert.equal(await pings(r, lab, 'a', '10.79.0.12'), false, 'cut for now');
  await until(r, lab, 'the timed partition healed itself', (s) => s.faults.length === 0);
  assert.equal(await pings(r, lab, 'a', '10.79.0.12'), true, 'healed');

  // A signal fault: STOP, healed by CONT.
  const pid = (await r.json<StatusJson>('lab', 'status', lab)).supervisor.processes.find((p) => p.process === 'sleeper')!.pid!;
  assert.equal((await r.run('lab', 'fault', 'apply', lab, 'pause')).code, 0);
  assert.equal(procState(pid), 'T', 'stopped');
  assert.equal((await r.run('lab', 'fault', 'heal', lab, 'pause')).code, 0);
  assert.notEqual(procState(pid), 'T', 'continued');
});

void test('lab timers: a fault applied --for on a lab without a supervisor starts one that heals it', async (t) => {
  const r = labRootForTest(t);
  const lab = randomName('lab');
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-sched-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'lab.yaml');
  writeFileSync(file, labText(lab, '', false));
  assert.equal((await r.run('lab', 'up', '-f', file)).code, 0);
  assert.equal((await r.json<StatusJson>('lab', 'status', lab)).supervisor.running, false, 'nothing to supervise yet');
  const res = await r.run('lab', 'fault', 'apply', lab, 'split', '--for', '1s');
  assert.equal(res.code, 0, res.stderr);
  assert.equal((await r.json<StatusJson>('lab', 'status', lab)).supervisor.running, true);
  await until(r, lab, 'healed by the supervisor started for it', (s) => s.faults.length === 0);
  assert.equal(await pings(r, lab, 'b', '10.79.0.11'), true);
});
