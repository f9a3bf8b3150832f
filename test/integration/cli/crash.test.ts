/**
 * Integration (root, throwaway host): nsbox SIGKILLed at its crash points (NSBOX_TEST_PAUSE),
 * then `nsbox gc` (first --dry-run, then for real) and `nsbox restore`. Checked against the
 * kernel (/proc/self/mountinfo, netns files, /run/netns symlinks, `ip -j link` in the host
 * and inside) and the state (`nsbox --json ls/inspect`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  finished, netnsFiles, netnsMounts, netnsSymlinks, nsboxJson, nsboxOk, registerCliLeakCheck, rootForFile, startNsbox, waitForStderr,
} from '../../helpers/cli.js';
import { hostLinkNames, hostVeth } from '../../helpers/host-links.js';
import { randomName } from '../../helpers/names.js';
import { ipJson, type IpLink } from '../../helpers/iproute.js';

registerCliLeakCheck();

interface GcJson {
  dryRun: boolean;
  removed: { kind: string; name: string; reason: string }[];
  inUse: string[];
  errors: { name: string; error: string }[];
}

interface RecordJson {
  name: string;
  state: string;
  interfaces: { srcName: string; dstName: string; state: string }[];
}

/** Start `nsbox ARGS…` paused at `point`, wait until it says so, and return a SIGKILL for it. */
async function pausedAt(root: string, point: string, ...args: string[]): Promise<() => Promise<void>> {
  const child = startNsbox(root, args, { env: { NSBOX_TEST_PAUSE: point } });
  const done = finished(child);
  await waitForStderr(child, `nsbox: paused at ${point}\n`);
  return async () => {
    child.kill('SIGKILL');
    const res = await done;
    assert.equal(res.signal, 'SIGKILL');
  };
}

function linksInside(name: string): string[] {
  return ipJson<IpLink[]>(name, 'link', 'show').map((l) => l.ifname).sort();
}

test('create killed after the namespace was made: restore says interrupted, gc --dry-run shows it, gc removes every trace', async () => {
  const root = rootForFile();
  const name = randomName();
  const key = join(root, 'run', 'netns', name);
  const kill = await pausedAt(root, 'create:netns', 'create', name);

  // While the create still runs, gc leaves it alone: it is in use, not a leak.
  assert.deepEqual(await nsboxJson<GcJson>(root, 'gc'), { dryRun: false, removed: [], inUse: [name], errors: [] });
  assert.deepEqual(netnsMounts(root), [key]);
  await kill();

  assert.deepEqual((await nsboxJson<RecordJson[]>(root, 'ls')).map((r) => [r.name, r.state]), [[name, 'creating']]);
  assert.deepEqual(netnsMounts(root), [key], 'the namespace was made');
  assert.deepEqual(await nsboxJson(root, 'restore'), [{ name, status: 'interrupted', detail: 'creating was interrupted; run `nsbox gc`' }]);
  assert.deepEqual(await nsboxJson(root, 'restore', '--recreate'), [{ name, status: 'interrupted', detail: 'creating was interrupted; run `nsbox gc`' }]);

  const planned = { dryRun: true, removed: [{ kind: 'sandbox', name, reason: 'create was interrupted' }], inUse: [], errors: [] };
  assert.deepEqual(await nsboxJson<GcJson>(root, 'gc', '--dry-run'), planned);
  const table = await nsboxOk(root, 'gc', '--dry-run');
  assert.match(table, new RegExp(`^sandbox\\s+${name}\\s+create was interrupted$`, 'm'));
  assert.doesNotMatch(table, /skipped/, 'nothing is in use any more');
  assert.deepEqual(netnsMounts(root), [key], '--dry-run changed nothing');
  assert.equal((await nsboxJson<RecordJson[]>(root, 'ls')).length, 1);

  assert.deepEqual(await nsboxJson<GcJson>(root, 'gc'), { ...planned, dryRun: false });
  assert.deepEqual(netnsMounts(root), []);
  assert.deepEqual(netnsFiles(root), []);
  assert.deepEqual(netnsSymlinks(root), []);
  assert.deepEqual(await nsboxJson(root, 'ls'), []);
  assert.deepEqual(await nsboxJson<GcJson>(root, 'gc'), { dryRun: false, removed: [], inUse: [], errors: [] });
  // The name is free again.
  await nsboxJson(root, 'create', name);
  await nsboxOk(root, 'rm', name);
});

for (const point of ['iface-add:kernel', 'iface-add:recorded'] as const) {
  test(`iface add killed at ${point}: gc puts the link back in the host under its source name and drops the row`, async () => {
    const root = rootForFile();
    const name = randomName();
    await nsboxJson(root, 'create', name);
    const [src] = hostVeth();
    const kill = await pausedAt(root, point, 'iface', 'add', name, '--src', src, '--name', 'inner0', '--ip', '10.95.0.2/24');
    await kill();

    if (point === 'iface-add:kernel') {
      assert.deepEqual(linksInside(name), ['inner0', 'lo'], 'the link was moved and renamed before the kill');
      assert.ok(!hostLinkNames().includes(src));
    } else {
      assert.deepEqual(linksInside(name), ['lo'], 'nothing was moved before the kill');
      assert.ok(hostLinkNames().includes(src));
    }
    const rec = await nsboxJson<RecordJson>(root, 'inspect', name);
    assert.deepEqual(rec.interfaces.map((i) => [i.srcName, i.dstName, i.state]), [[src, 'inner0', 'adding']]);

    const planned = { dryRun: true, removed: [{ kind: 'interface', name: `${name}/inner0`, reason: 'iface add was interrupted' }], inUse: [], errors: [] };
    assert.deepEqual(await nsboxJson<GcJson>(root, 'gc', '--dry-run'), planned);
    assert.equal((await nsboxJson<RecordJson>(root, 'inspect', name)).interfaces.length, 1, '--dry-run changed nothing');
    assert.deepEqual(await nsboxJson<GcJson>(root, 'gc'), { ...planned, dryRun: false });

    const host = ipJson<IpLink[]>(undefined, '-d', 'link', 'show').find((l) => l.ifname === src);
    assert.ok(host, `${src} is back in the host under its source name`);
    assert.ok(!host.flags.includes('UP'), 'and down');
    assert.deepEqual(linksInside(name), ['lo'], 'not inside the sandbox');
    assert.deepEqual((await nsboxJson<RecordJson>(root, 'inspect', name)).interfaces, [], 'the record has no such interface');
    assert.deepEqual(await nsboxJson<GcJson>(root, 'gc'), { dryRun: false, removed: [], inUse: [], errors: [] });

    // The sandbox works normally afterwards: the same link can be added again.
    assert.equal(await nsboxOk(root, 'iface', 'add', name, '--src', src, '--name', 'inner0'), 'inner0\n');
    assert.deepEqual(linksInside(name), ['inner0', 'lo']);
    await nsboxOk(root, 'rm', name);
    assert.ok(hostLinkNames().includes(src));
  });
}

test('iface add --bridge killed after the kernel work: gc deletes the bridge, nothing reaches the host', async () => {
  const root = rootForFile();
  const name = randomName();
  await nsboxJson(root, 'create', name);
  const bridge = `nsbt${name.slice(5, 11)}br`;
  const kill = await pausedAt(root, 'iface-add:kernel', 'iface', 'add', name, '--src', bridge, '--bridge', '--name', 'br0');
  await kill();
  assert.deepEqual(linksInside(name), ['br0', 'lo']);
  assert.deepEqual((await nsboxJson<GcJson>(root, 'gc')).removed, [{ kind: 'interface', name: `${name}/br0`, reason: 'iface add was interrupted' }]);
  assert.deepEqual(linksInside(name), ['lo']);
  assert.ok(!hostLinkNames().includes(bridge));
  assert.deepEqual((await nsboxJson<RecordJson>(root, 'inspect', name)).interfaces, []);
  await nsboxOk(root, 'rm', name);
});
