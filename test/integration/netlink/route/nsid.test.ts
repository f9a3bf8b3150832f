/**
 * Integration (root, throwaway host): rtnl.nsid.* — the ids a namespace gives its peers. Checked
 * with `ip -n NS netns list-id` (JSON and text), and read back for ids set with `ip netns set`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkError } from '../../../../src/errors.js';
import { makeNetns } from '../../../helpers/netns.js';
import { ip, ipNsids } from '../../../helpers/iproute.js';
import { checkLeaksAfterAll, openRtnl } from '../../../helpers/rtnl.js';

checkLeaksAfterAll();

test('nsid.set(fd, id) assigns the id ip netns list-id reports; nsid.get reads it back', async () => {
  using a = makeNetns();
  using b = makeNetns();
  using rtnl = openRtnl(a);
  assert.equal(await rtnl.nsid.get(b.fd), undefined, 'no id yet');
  assert.deepEqual(ipNsids(a.name), []);

  assert.equal(await rtnl.nsid.set(b.fd, 7), 7);
  assert.deepEqual(ipNsids(a.name), [{ nsid: 7, name: b.name }]);
  assert.match(ip(a.name, 'netns', 'list-id'), new RegExp(`^nsid 7 \\(iproute2 netns name: ${b.name}\\)$`, 'm'));
  assert.equal(await rtnl.nsid.get(b.fd), 7);

  await assert.rejects(rtnl.nsid.set(b.fd, 8), (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, 'EEXIST');
    assert.equal(err.op, 'RTM_NEWNSID');
    return true;
  }, 'an explicit id on a namespace that has another');
  assert.deepEqual(ipNsids(a.name), [{ nsid: 7, name: b.name }], 'unchanged');
  assert.equal(await rtnl.nsid.set(b.fd), 7, 'auto keeps the id in force');
});

test('nsid.set(fd) allocates an id (auto), stable on repeat, as ip sees it', async () => {
  using a = makeNetns();
  using b = makeNetns();
  using c = makeNetns();
  using rtnl = openRtnl(a);
  const idB = await rtnl.nsid.set(b.fd);
  assert.ok(Number.isInteger(idB) && idB >= 0, String(idB));
  assert.equal(await rtnl.nsid.set(b.fd), idB, 'auto again: same id, no error');
  const idC = await rtnl.nsid.set(c.fd);
  assert.notEqual(idC, idB);
  const listed = ipNsids(a.name).sort((x, y) => x.nsid - y.nsid);
  assert.deepEqual(listed, [{ nsid: idB, name: b.name }, { nsid: idC, name: c.name }].sort((x, y) => x.nsid - y.nsid));
  assert.deepEqual(ipNsids(b.name), [], 'ids are per namespace: b gave a none');
});

test('nsid.get reads ids assigned with ip netns set, and undefined for namespaces without one', async () => {
  using a = makeNetns();
  using b = makeNetns();
  using c = makeNetns();
  using rtnl = openRtnl(a);
  ip(a.name, 'netns', 'set', b.name, '12');
  assert.equal(await rtnl.nsid.get(b.fd), 12);
  assert.equal(await rtnl.nsid.get(c.fd), undefined);
  ip(a.name, 'netns', 'set', c.name, 'auto');
  const fromIp = ipNsids(a.name).find((e) => e.name === c.name)?.nsid;
  assert.equal(typeof fromIp, 'number');
  assert.equal(await rtnl.nsid.get(c.fd), fromIp);
});

test('nsid.set: an invalid id is a TypeError; a bad fd is the kernel\'s error', async () => {
  using a = makeNetns();
  using b = makeNetns();
  using rtnl = openRtnl(a);
  await assert.rejects(rtnl.nsid.set(b.fd, -2), TypeError);
  await assert.rejects(rtnl.nsid.set(b.fd, 1.5), TypeError);
  await assert.rejects(rtnl.nsid.get(9999), NetlinkError);
  assert.deepEqual(ipNsids(a.name), []);
});
