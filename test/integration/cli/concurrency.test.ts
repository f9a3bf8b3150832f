/**
 * Integration (root, throwaway host): many nsbox processes at once on one state root. Every
 * one succeeds (no SQLITE_BUSY, no lost update), and afterwards the state (`--json ls`) and
 * the kernel (mounts under <root>/run/netns, symlinks in /run/netns, links inside) agree
 * exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  netnsFiles, netnsMounts, netnsSymlinks, nsbox, nsboxJson, registerCliLeakCheck, rootForFile, type CliResult,
} from '../../helpers/cli.js';
import { hostLinkNames, hostVeth } from '../../helpers/host-links.js';
import { randomName } from '../../helpers/names.js';
import { ipJson, type IpLink } from '../../helpers/iproute.js';
import { join } from 'node:path';

registerCliLeakCheck();

const N = 20;

function assertAllOk(results: CliResult[], what: string): void {
  const failed = results.filter((r) => r.code !== 0).map((r) => `${r.code ?? r.signal}: ${r.stderr.trim()}`);
  assert.deepEqual(failed, [], `${what}: every process succeeds`);
  for (const r of results) assert.doesNotMatch(r.stderr, /SQLITE_BUSY|database is locked/, what);
}

test(`${N} parallel creates, then ${N} parallel removes: all succeed, state and kernel agree`, async () => {
  const root = rootForFile();
  const names = Array.from({ length: N }, () => randomName()).sort();
  const created = await Promise.all(names.map((n, i) => nsbox(root, '--json', 'create', n, '--label', `i=${i}`)));
  assertAllOk(created, 'create');

  const listed = await nsboxJson<{ name: string; netns: string; state: string; labels: Record<string, string> }[]>(root, 'ls');
  assert.deepEqual(listed.map((r) => r.name).sort(), names);
  assert.ok(listed.every((r) => r.state === 'ready'), 'all ready');
  for (const r of listed) assert.equal(r.labels.i, String(names.indexOf(r.name)), `labels of ${r.name}`);
  const keys = names.map((n) => join(root, 'run', 'netns', n));
  assert.deepEqual(netnsMounts(root), keys, 'one mount per record, no more');
  assert.deepEqual(netnsFiles(root), names);
  assert.deepEqual(netnsSymlinks(root), names);
  for (const n of names) assert.deepEqual(ipJson<IpLink[]>(n, 'link', 'show').map((l) => l.ifname), ['lo'], n);

  const removed = await Promise.all(names.map((n) => nsbox(root, '--json', 'rm', n)));
  assertAllOk(removed, 'rm');
  for (const [i, r] of removed.entries()) assert.deepEqual(JSON.parse(r.stdout), [{ name: names[i], removed: true, errors: [] }]);
  assert.deepEqual(await nsboxJson(root, 'ls'), []);
  assert.deepEqual(netnsMounts(root), []);
  assert.deepEqual(netnsFiles(root), []);
  assert.deepEqual(netnsSymlinks(root), []);
});

test('parallel iface add into one sandbox is serialised by its lock: every link lands once, named uniquely', async () => {
  const root = rootForFile();
  const name = randomName();
  await nsboxJson(root, 'create', name);
  const srcs = Array.from({ length: 8 }, () => hostVeth()[0]);
  const results = await Promise.all(srcs.map((src, i) => nsbox(root, '--json', 'iface', 'add', name, '--src', src, '--ip', `10.90.${i}.2/24`)));
  assertAllOk(results, 'iface add');
  const rec = await nsboxJson<{ interfaces: { srcName: string; dstName: string; state: string }[] }>(root, 'inspect', name);
  assert.deepEqual(rec.interfaces.map((i) => i.srcName).sort(), [...srcs].sort(), 'no lost update');
  const dst = rec.interfaces.map((i) => i.dstName).sort();
  assert.deepEqual(dst, Array.from({ length: 8 }, (_, i) => `eth${i}`).sort());
  const inside = ipJson<IpLink[]>(name, 'link', 'show').map((l) => l.ifname).filter((n) => n !== 'lo').sort();
  assert.deepEqual(inside, dst, 'the kernel holds exactly the recorded links');
  assert.ok(srcs.every((s) => !hostLinkNames().includes(s)));
  assertAllOk([await nsbox(root, 'rm', name)], 'rm');
  const host = hostLinkNames();
  assert.ok(srcs.every((s) => host.includes(s)), 'rm gave every link back');
});

test('network create, rm and connect racing on one name: success or a clear refusal, and the bridge exists exactly when the record does', async () => {
  const root = rootForFile();
  const net = `nr${randomName('').slice(0, 6)}`;
  const sandboxes = [randomName(), randomName()];
  for (const s of sandboxes) await nsboxJson(root, 'create', s);
  const refusals = new Set(['NSBOX_ERR_EXISTS', 'NSBOX_ERR_NOT_FOUND', 'NSBOX_ERR_IN_USE']);
  for (let round = 0; round < 6; round++) {
    const results = await Promise.all([
      nsbox(root, '--json', 'network', 'create', net, '--subnet', '10.233.0.0/24'),
      nsbox(root, '--json', 'network', 'rm', net),
      nsbox(root, '--json', 'connect', net, sandboxes[round % 2]!),
      nsbox(root, '--json', 'network', 'create', net, '--subnet', '10.233.0.0/24'),
      nsbox(root, '--json', 'network', 'rm', net),
    ]);
    const unclear = results.filter((r) => r.code !== 0 && !refusals.has((JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { code: string }).code));
    assert.deepEqual(unclear.map((r) => r.stderr.trim()), [], `round ${round}: only clear refusals`);
    const listed = (await nsboxJson<{ name: string }[]>(root, 'network', 'ls')).some((n) => n.name === net);
    assert.equal(hostLinkNames().includes(`nsbr-${net}`), listed, `round ${round}: the bridge exists exactly when the record does`);
    for (const s of sandboxes) await nsbox(root, 'disconnect', net, s);
    await nsbox(root, 'network', 'rm', net);
    assert.ok(!hostLinkNames().includes(`nsbr-${net}`), `round ${round}: rm took the bridge`);
  }
  assertAllOk([await nsbox(root, 'rm', ...sandboxes)], 'rm');
});
