/**
 * Integration (root, throwaway host): many async operations on one sandbox at once, and many
 * sandboxes at once. Afterwards the kernel (by `ip -j`, mountinfo and /proc/self/fd) must
 * agree with what the sandbox layer reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Sandbox, type Interface, type StaticRoute } from '../../../src/index.js';
import { ipIn, ipLink, ipLinksIn, ipRoutesIn } from '../../helpers/iproute.js';
import { delHostLinks, hostVeth } from '../../helpers/host-links.js';
import { mountsUnder, netnsFilesUnder as netnsFiles, openFds } from '../../helpers/leaks.js';
import { checkSandboxLeaks, freshBase, newKey, NO_ADV } from '../../helpers/sandbox.js';

const base = freshBase();
checkSandboxLeaks(base);


void test('concurrent adds/removes of 20 links, static routes and neighbours: the kernel matches interfaces() and staticRoutes()', async () => {
  const pairs = Array.from({ length: 20 }, () => hostVeth());
  const sb = await Sandbox.create(newKey());
  try {
    await sb.netlink.link.add({ name: 'hub', kind: 'veth', peer: { name: 'hubpeer' } });
    await sb.addInterface('hub', 'eth', { createdInContainer: true, ipv4: '10.60.0.2/16', ...NO_ADV });
    const routes: StaticRoute[] = Array.from({ length: 16 }, (_, i) => ({ destination: `10.61.${i}.0/24`, nextHop: '10.60.0.1' }));
    const neighbours = Array.from({ length: 16 }, (_, i) => ({ ip: `10.60.1.${i + 1}`, mac: `02:00:0a:3c:01:${(i + 1).toString(16).padStart(2, '0')}` }));
    const removed: string[] = [];
    const tasks: Promise<unknown>[] = [];
    pairs.forEach(([, b], i) => {
      tasks.push((async () => {
        const iface = await sb.addInterface(b, 'eth', { ipv4: `10.62.${i}.2/24`, ...NO_ADV });
        if (i % 3 === 0) {
          await sb.removeInterface(iface);
          removed.push(b);
        }
      })());
    });
    routes.forEach((r, i) => {
      tasks.push((async () => {
        await sb.addStaticRoute(r);
        if (i % 2 === 1) await sb.removeStaticRoute(r);
      })());
    });
    neighbours.forEach((n, i) => {
      tasks.push((async () => {
        await sb.addNeighbor(n.ip, n.mac, { linkName: 'hub' });
        if (i % 4 === 0) await sb.deleteNeighbor(n.ip, n.mac, { linkName: 'hub' });
      })());
    });
    const results = await Promise.allSettled(tasks);
    assert.deepEqual(results.filter((r) => r.status === 'rejected'), [], 'every operation succeeded');

    const ifaces = sb.interfaces();
    const kernelLinks = ipLinksIn(sb.key).map((l) => l.ifname).filter((n) => n.startsWith('eth')).sort();
    assert.deepEqual(kernelLinks, ifaces.map((i: Interface) => i.dstName).sort(), 'links inside = interfaces()');
    assert.equal(new Set(kernelLinks).size, kernelLinks.length);
    assert.equal(ifaces.length, 1 + 20 - removed.length);
    for (const iface of ifaces.filter((i) => i.srcName !== 'hub')) {
      const addrs = ipIn<{ addr_info: { local: string; prefixlen: number }[] }[]>(sb.key, 'addr', 'show', 'dev', iface.dstName)[0]?.addr_info ?? [];
      assert.ok(addrs.some((a) => `${a.local}/${a.prefixlen}` === iface.address), `${iface.dstName} carries ${iface.address}`);
    }
    for (const b of removed) assert.ok(ipLink(undefined, b), `${b} is back in the host`);

    const kernelRoutes = ipRoutesIn(sb.key, 4).filter((r) => r.gateway === '10.60.0.1').map((r) => r.dst).sort();
    assert.deepEqual(kernelRoutes, sb.staticRoutes().map((r) => r.destination).sort(), 'routes = staticRoutes()');
    assert.equal(kernelRoutes.length, 8);

    const kernelNeigh = ipIn<{ dst: string; state?: string[] }[]>(sb.key, 'neigh', 'show', 'dev', 'eth0')
      .filter((n) => n.state?.includes('PERMANENT')).map((n) => n.dst).sort();
    assert.deepEqual(kernelNeigh, neighbours.filter((_, i) => i % 4 !== 0).map((n) => n.ip).sort());
  } finally {
    await sb.destroy();
    delHostLinks(...pairs.flat());
  }
});

void test('50 sandboxes created and destroyed in parallel leave no mount, no file and no fd', async () => {
  const fds = openFds();
  const boxes = await Promise.all(Array.from({ length: 50 }, () => Sandbox.create(newKey())));
  assert.equal(new Set(boxes.map((b) => b.key)).size, 50);
  assert.equal(mountsUnder(base).length, 50);
  const loUp = boxes.map((b) => ipIn<{ flags: string[] }[]>(b.key, 'link', 'show', 'dev', 'lo')[0]?.flags.includes('UP'));
  assert.ok(loUp.every((up) => up === true), 'lo is up in every one');
  await Promise.all(boxes.map((b) => b.destroy()));
  assert.deepEqual(mountsUnder(base), []);
  assert.deepEqual(netnsFiles(base), []);
  assert.ok(boxes.every((b) => !existsSync(b.key)));
  assert.deepEqual(openFds(), fds, 'no fd leaked');
});
