/**
 * Integration (root, throwaway host): gc() finds leaks from the kernel's mount table and the
 * base directory (not from memory): a sandbox whose owner was SIGKILLed, a stray plain file.
 * It never touches a live sandbox or a namespace mount outside the base path. Checked with
 * /proc/self/mountinfo, the directory and iproute2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sandbox, gc } from '../../../src/index.js';
import { ipIn } from '../../helpers/iproute.js';
import { mountsUnder } from '../../helpers/leaks.js';
import { randomName } from '../../helpers/names.js';
import { makeNetns } from '../../helpers/netns.js';
import { checkSandboxLeaks, freshBase, newKey } from '../../helpers/sandbox.js';

const base = freshBase();
checkSandboxLeaks(base);

const netnsDir = join(base, 'netns');
const mounted = (key: string): number => mountsUnder(base).filter((m) => m === key).length;

/** A child node process creates a sandbox on `key` under our base path, then is SIGKILLed. */
async function leakFromCrashedOwner(key: string): Promise<void> {
  const index = fileURLToPath(new URL('../../../src/index.js', import.meta.url));
  const script = `
    import { Sandbox, setBasePath } from ${JSON.stringify(index)};
    setBasePath(${JSON.stringify(base)});
    const sb = await Sandbox.create(${JSON.stringify(key)});
    await sb.netlink.link.add({ name: 'leakA', kind: 'veth', peer: { name: 'leakB' } });
    console.log('ready');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    child.on('exit', (code) => reject(new Error(`the child exited early (${code})`)));
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

void test('a mount leaked by a SIGKILLed owner: gc({ dryRun }) lists it and removes nothing, gc() removes mount and file', async () => {
  const key = newKey();
  await leakFromCrashedOwner(key);
  assert.equal(mounted(key), 1, 'the namespace outlived its owner');
  assert.deepEqual(ipIn<{ ifname: string }[]>(key, 'link', 'show').map((l) => l.ifname).sort(), ['leakA', 'leakB', 'lo']);

  const dry = await gc({ dryRun: true });
  assert.equal(dry.dryRun, true);
  assert.deepEqual(dry.removedMounts, [key]);
  assert.deepEqual(dry.errors, []);
  assert.equal(mounted(key), 1, 'a dry run removes nothing');
  assert.ok(existsSync(key));

  const real = await gc();
  assert.deepEqual(real.removedMounts, [key]);
  assert.deepEqual(real.errors, []);
  assert.equal(mounted(key), 0, 'no mount left');
  assert.equal(existsSync(key), false, 'no file left');
  assert.deepEqual((await gc()).removedMounts, [], 'nothing more to do');
});

void test('a leftover plain file under the base path is removed', async () => {
  await gc(); // the directory exists from here on
  const stray = join(netnsDir, 'stray0123456');
  writeFileSync(stray, '');
  const dry = await gc({ dryRun: true });
  assert.deepEqual(dry.removedFiles, [stray]);
  assert.ok(existsSync(stray));
  const report = await gc();
  assert.deepEqual(report.removedFiles, [stray]);
  assert.deepEqual(report.removedMounts, []);
  assert.equal(existsSync(stray), false);
});

void test('a live sandbox of this process is reported live and never touched, even next to a leak', async () => {
  const live = await Sandbox.create(newKey());
  const leaked = newKey();
  try {
    await live.netlink.link.add({ name: 'liveA', kind: 'veth', peer: { name: 'liveB' } });
    await leakFromCrashedOwner(leaked);
    const report = await gc();
    assert.deepEqual(report.live, [live.key]);
    assert.deepEqual(report.removedMounts, [leaked]);
    assert.equal(mounted(live.key), 1, 'still mounted');
    assert.deepEqual(ipIn<{ ifname: string }[]>(live.key, 'link', 'show').map((l) => l.ifname).sort(), ['liveA', 'liveB', 'lo']);
    assert.deepEqual((await live.netlink.link.list()).map((l) => l.name).sort(), ['liveA', 'liveB', 'lo'], 'still usable');
  } finally {
    await live.destroy();
  }
  assert.equal(mounted(leaked), 0);
});

void test('a netns mount outside the base path (/run/netns) is never touched', async () => {
  using outside = makeNetns(randomName('nsbx-'));
  await leakFromCrashedOwner(newKey());
  const report = await gc();
  assert.equal(report.removedMounts.length, 1);
  assert.ok(report.removedMounts.every((p) => p.startsWith(`${netnsDir}/`)));
  assert.ok(mountsUnder('/run/netns').includes(outside.path), 'still mounted');
  assert.ok(existsSync(outside.path));
});
