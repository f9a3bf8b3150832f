/**
 * Integration (root, throwaway host): the library's lab API in this process (docs/api.md
 * "Labs"). `useLab` brings an object lab up for a subtest and down after it; `plan` of the
 * running lab changes nothing; `node(n).exec` captures output and exit codes; a partition
 * handle cuts both ways and its `heal()` restores; `impair` merges (loss, then a delay: both
 * live); `status` has no drift; and `useLab` brings the lab down even when `up` fails half way
 * (a process never ready), leaving no sandbox of the lab.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useLab, Manager, type Lab } from '../../../src/index.js';
import { randomName } from '../../helpers/names.js';
import { tempRootForTest } from '../../helpers/lab-api.js';

const labObject = (lab: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  lab,
  nodes: { a: {}, b: {} },
  links: [{ name: 'l1', a: { node: 'a', iface: 'eth1', address: '10.81.0.1/30' }, b: { node: 'b', iface: 'eth1', address: '10.81.0.2/30' } }],
  ...extra,
});

void test('Lab API: useLab, plan, node exec, a partition handle, impair merging, status, and down at the end', async (t) => {
  const root = tempRootForTest(t);
  const name = randomName('api');
  let handle: Lab | undefined;
  await t.test('inside the lab', async (t2) => {
    const lab = await useLab(t2, labObject(name), { root });
    handle = lab;
    assert.equal((await lab.plan()).changed, false, 'up already made it');
    const ping = async (from: string, to: string): Promise<number | null> => (await lab.node(from).exec(['ping', '-n', '-q', '-c', '1', '-W', '1', to])).code;
    assert.equal(await ping('a', '10.81.0.2'), 0);
    const echo = await lab.node('b').exec(['sh', '-c', 'cat; echo err >&2; exit 3'], { input: 'hello\n' });
    assert.deepEqual([echo.code, echo.stdout, echo.stderr], [3, 'hello\n', 'err\n']);

    const cut = await lab.partition([['a'], ['b']]);
    assert.equal(await ping('a', '10.81.0.2'), 1);
    assert.equal(await ping('b', '10.81.0.1'), 1);
    assert.equal((await cut.heal()).healed, true);
    assert.equal(await ping('a', '10.81.0.2'), 0);

    await lab.impair('l1', { dir: 'a->b', loss: 0.25 });
    const both = await lab.impair('l1', { dir: 'a->b', delay: 15 });
    assert.deepEqual(both.directions[0]!.after, { loss: 0.25, delay: 15 }, 'the loss stayed when the delay came');
    const st = await lab.status();
    assert.equal(st.nodes.find((n) => n.node === 'a')!.interfaces[0]!.delay?.delayMs, 15);
    assert.ok(st.drift.some((d) => d.key === 'impair:l1/a->b'), 'a runtime impairment is drift from the file');
    await lab.up(); // back to the file
    assert.deepEqual((await lab.status()).drift, []);
  });
  const m = Manager.open({ root });
  t.after(() => m.close());
  assert.ok(handle !== undefined);
  assert.deepEqual(m.sandboxes().filter((s) => s.record.name.startsWith(`${name}.`)), [], 'useLab brought it down');
  assert.equal(m.labs.get(name), undefined);
});

void test('useLab brings the lab down when up fails half way', async (t) => {
  const root = tempRootForTest(t);
  const name = randomName('api');
  const hooks: (() => unknown)[] = [];
  const broken = labObject(name, { nodes: { a: { processes: [{ name: 'never', cmd: ['sleep', '100'], ready: { tcp: 9, timeout: '1s' } }] }, b: {} } });
  await assert.rejects(useLab({ after: (fn) => hooks.push(fn) }, broken, { root }), /never/);
  assert.equal(hooks.length, 1, 'the teardown was registered before up');
  const m = Manager.open({ root });
  t.after(() => m.close());
  assert.ok(m.sandboxes().some((s) => s.record.name === `${name}.a`), 'up made the nodes before the process failed');
  for (const h of hooks) await h();
  assert.deepEqual(m.sandboxes().filter((s) => s.record.name.startsWith(`${name}.`)), []);
  assert.equal(m.labs.get(name), undefined);
});
