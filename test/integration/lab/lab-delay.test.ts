/**
 * Integration (root, throwaway host): delay, jitter and seeded loss in a lab, end to end through
 * bin/nsbox.js. `up` has the lab's supervisor run a delay engine per impaired direction at the
 * sender (30 ms a->b, 10 ms b->a: ping from either side sees at least 40 ms), `status` names the
 * mechanism of each impairment and the engines' counters, a second `up` changes nothing, a
 * changed delay is changed in place; a SIGKILLed supervisor leaves the rules (bypass: undelayed)
 * and `status` says the delay is not enforced until the next `up`; a seeded link's loss is the
 * engine's (the same datagrams lost in two runs of the same seed); `down` leaves no rule, no
 * engine and no supervisor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootForTest, type NsboxRoot } from '../../helpers/cli.js';
import { randomName } from '../../helpers/names.js';

const labText = (lab: string, ab: string, extra = ''): string => `lab: ${lab}
nodes:
  a: {}
  b: {}
links:
  - name: l1
    a: { node: a, iface: eth1, address: 10.78.0.1/30 }
    b: { node: b, iface: eth1, address: 10.78.0.2/30 }
    impair: { a->b: { ${ab} }, b->a: { delay: 10ms } }
${extra}`;

interface Iface { name: string; delay?: { delayMs: number; jitterMs: number; loss: number; seed: number; released: number }; mechanisms: Record<string, string> }
interface StatusJson { nodes: { node: string; interfaces: Iface[] }[]; supervisor: { running: boolean; pid?: number; delay: unknown[] } }
interface UpJson { changed: boolean; steps: { key: string; action: string; detail: string }[] }

const eth1 = (s: StatusJson, node: string): Iface => s.nodes.find((n) => n.node === node)!.interfaces.find((i) => i.name === 'eth1')!;

async function minRtt(r: NsboxRoot, lab: string, from: string, to: string): Promise<number> {
  const res = await r.run('lab', 'exec', lab, from, '--', 'ping', '-n', '-q', '-c', '10', '-i', '0.05', '-W', '2', to);
  assert.equal(res.code, 0, res.stdout + res.stderr);
  const m = /= ([\d.]+)\//.exec(res.stdout);
  assert.ok(m, res.stdout);
  return Number(m[1]);
}

void test('lab delay: engines at the sender, status mechanisms, idempotent up, change in place, a killed supervisor, down', async (t) => {
  const r = rootForTest(t);
  const lab = randomName('lab');
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-ldelay-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'lab.yaml');
  writeFileSync(file, labText(lab, 'delay: 30ms'));
  t.after(() => r.run('lab', 'down', lab));

  const up = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.deepEqual(up.steps.filter((s) => s.key.startsWith('impair:')).map((s) => `${s.action} ${s.key}`).sort(), ['create impair:l1/a->b', 'create impair:l1/b->a']);
  assert.ok((await minRtt(r, lab, 'a', '10.78.0.2')) >= 40, 'a -> b -> a: 30 + 10 ms');
  assert.ok((await minRtt(r, lab, 'b', '10.78.0.1')) >= 40, 'b -> a -> b: 10 + 30 ms');

  let st = await r.json<StatusJson>('lab', 'status', lab);
  assert.equal(eth1(st, 'a').delay?.delayMs, 30, 'a sends a->b');
  assert.equal(eth1(st, 'b').delay?.delayMs, 10, 'b sends b->a');
  assert.equal(eth1(st, 'a').mechanisms.delay, 'nfqueue engine (sender)');
  assert.ok(eth1(st, 'a').delay!.released >= 20, 'the engine released the echo requests and replies');
  assert.match(await r.ok('lab', 'status', lab), /30ms/);

  const again = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.equal(again.changed, false, JSON.stringify(again.steps));

  writeFileSync(file, labText(lab, 'delay: 50ms, jitter: 5ms'));
  const changed = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.deepEqual(changed.steps.filter((s) => s.key.startsWith('impair:')).map((s) => `${s.action} ${s.key}`), ['change impair:l1/a->b']);
  st = await r.json<StatusJson>('lab', 'status', lab);
  assert.deepEqual([eth1(st, 'a').delay?.delayMs, eth1(st, 'a').delay?.jitterMs], [50, 5]);
  assert.ok((await minRtt(r, lab, 'a', '10.78.0.2')) >= 55, '50 - 5 + 10 ms at least');

  // The supervisor killed: the rules stay with bypass, packets pass undelayed, status says so.
  process.kill(st.supervisor.pid!, 'SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 200));
  st = await r.json<StatusJson>('lab', 'status', lab);
  assert.equal(st.supervisor.running, false);
  assert.match(eth1(st, 'a').mechanisms.delay ?? '', /^not enforced/);
  assert.ok((await minRtt(r, lab, 'a', '10.78.0.2')) < 40, 'undelayed without the engines');
  const revived = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.equal(revived.changed, true);
  assert.ok((await minRtt(r, lab, 'a', '10.78.0.2')) >= 55, 'the next up runs the engines again');

  const down = await r.run('lab', 'down', lab);
  assert.equal(down.code, 0, down.stderr);
  assert.equal((await r.run('lab', 'status', lab)).code, 3);
});

/** UDP datagrams 0..n-1 from a to b through the lab; the sequence numbers b did not get. */
async function lostDatagrams(r: NsboxRoot, lab: string, n: number): Promise<number[]> {
  const recv = r.run('lab', 'exec', lab, 'b', '--', 'python3', '-c', `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('10.78.0.2', 9999)); s.settimeout(2)
got = set()
try:
    while True: got.add(int(s.recv(64)))
except socket.timeout: pass
print(' '.join(str(i) for i in range(${n}) if i not in got))`);
  await new Promise((resolve) => setTimeout(resolve, 700));
  const send = await r.run('lab', 'exec', lab, 'a', '--', 'python3', '-c', `
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(${n}):
    s.sendto(str(i).encode(), ('10.78.0.2', 9999))
    if i % 50 == 49: time.sleep(0.005)`);
  assert.equal(send.code, 0, send.stderr);
  const got = await recv;
  assert.equal(got.code, 0, got.stderr);
  return got.stdout.trim() === '' ? [] : got.stdout.trim().split(' ').map(Number);
}

void test('lab seeded loss: drawn by the delay engine at the sender, the same datagrams lost in two runs of one seed', async (t) => {
  const r = rootForTest(t);
  const lab = randomName('lab');
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-lseed-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'lab.yaml');
  writeFileSync(file, labText(lab, 'loss: 10%', 'seed: 42\n'));
  t.after(() => r.run('lab', 'down', lab));

  const runs: number[][] = [];
  for (let i = 0; i < 2; i++) {
    assert.equal((await r.run('lab', 'up', '-f', file)).code, 0);
    const st = await r.json<StatusJson>('lab', 'status', lab);
    assert.equal(eth1(st, 'a').mechanisms.loss, 'nfqueue engine, seeded (sender)');
    assert.equal(eth1(st, 'a').delay?.seed, 42);
    runs.push(await lostDatagrams(r, lab, 1000));
    assert.equal((await r.run('lab', 'down', lab)).code, 0);
  }
  assert.ok(runs[0]!.length > 50 && runs[0]!.length < 160, `${runs[0]!.length} of 1000 lost at 10%`);
  assert.deepEqual(runs[1], runs[0], 'the same seed loses the same datagrams');
});
