/**
 * Unit (no root): src/store/network-records.ts on a temporary database. Networks: insert (a
 * taken name refused; the caller's check runs inside the transaction, on the other networks),
 * get, list, delete (refused while leases remain). Leases: allocation is one transaction, so
 * two connections never hand out one address twice; release by owner, or by owner and network.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkRecords, type Lease, type NetworkConfig, type NetworkRecord } from '../../../src/store/index.js';
import { impatientDb, inWorkers, openTestDb, tempStoreDir } from '../../helpers/store.js';

const bridgeConfig = (subnet: string): NetworkConfig => ({ subnets: [{ subnet, gateway: subnet.replace(/0\/24$/, '1') }], mtu: 1500, internal: false, bridge: 'br0', managedBridge: true });
const net = (name: string, subnet = '10.0.0.0/24'): Omit<NetworkRecord, 'createdAt'> => ({ name, driver: 'bridge', config: bridgeConfig(subnet) });
const next = (base: string) => (taken: Set<string>): string[] => {
  for (let host = 2; host < 255; host++) if (!taken.has(`${base}${host}`)) return [`${base}${host}`];
  throw new Error('full');
};

void test('insert, get, list, delete; a taken name is refused without calling the check', (t) => {
  const records = new NetworkRecords(openTestDb(t, tempStoreDir(t)));
  assert.equal(records.insert(net('a')), true);
  assert.equal(records.insert({ name: 'm', driver: 'macvlan', config: { subnets: [], mtu: 9000, internal: true, parent: 'eth0', macvlanMode: 'bridge' } }), true);
  const a = records.get('a');
  assert.ok(a);
  assert.deepEqual({ ...a, createdAt: '' }, { ...net('a'), createdAt: '' });
  assert.equal(new Date(a.createdAt).toISOString(), a.createdAt);
  assert.deepEqual(records.list().map((r) => [r.name, r.driver]), [['a', 'bridge'], ['m', 'macvlan']]);
  assert.equal(records.get('nope'), undefined);

  let checked = false;
  assert.equal(records.insert(net('a', '10.9.0.0/24'), () => { checked = true; }), false);
  assert.equal(checked, false, 'a taken name is not a clash to check');
  assert.deepEqual(records.get('a')?.config, bridgeConfig('10.0.0.0/24'), 'the first one stays');

  assert.equal(records.delete('m'), 'deleted');
  assert.equal(records.delete('m'), 'missing');
  assert.deepEqual(records.list().map((r) => r.name), ['a']);
});

void test('the check gets the other networks, runs inside the insert transaction, and a throw inserts nothing', (t) => {
  const dir = tempStoreDir(t);
  const records = new NetworkRecords(openTestDb(t, dir));
  const other = new NetworkRecords(impatientDb(t, dir));
  assert.equal(records.insert(net('a', '10.0.0.0/24')), true);
  let seen: string[] = [];
  assert.equal(records.insert(net('b', '10.1.0.0/24'), (others) => {
    seen = others.map((o) => o.name);
    // No other connection can add a network between the check and the insert.
    assert.throws(() => other.insert(net('c', '10.1.0.0/24')), { code: 'SQLITE_BUSY' });
  }), true);
  assert.deepEqual(seen, ['a'], 'the others, not the new one');
  const clash = new Error('overlaps a');
  assert.throws(() => records.insert(net('d', '10.0.0.0/24'), () => { throw clash; }), (err: unknown) => err === clash);
  assert.equal(records.get('d'), undefined, 'nothing inserted');
  assert.deepEqual(records.list().map((r) => r.name), ['a', 'b']);
});

void test('lease: pick gets the taken addresses of the network; leases are listed by owner, network and all', (t) => {
  const records = new NetworkRecords(openTestDb(t, tempStoreDir(t)));
  records.insert(net('a', '10.0.0.0/24'));
  records.insert(net('b', '10.1.0.0/24'));
  const takenSeen: string[][] = [];
  const pick = (base: string) => (taken: Set<string>): string[] => { takenSeen.push([...taken].sort()); return next(base)(taken); };
  assert.deepEqual(records.lease('a', 'sb1', 'eth0', pick('10.0.0.')), ['10.0.0.2']);
  assert.deepEqual(records.lease('a', 'sb2', 'eth0', pick('10.0.0.')), ['10.0.0.3']);
  assert.deepEqual(records.lease('b', 'sb1', 'eth1', pick('10.1.0.')), ['10.1.0.2']);
  assert.deepEqual(records.lease('a', 'sb1', 'eth2', () => ['10.0.0.9', 'fd00::9']), ['10.0.0.9', 'fd00::9'], 'several at once');
  assert.deepEqual(takenSeen, [[], ['10.0.0.2'], []], 'only the addresses of the network asked for');
  // Leases made within one millisecond share created_at, the order of these lists: compare sorted.
  const byAddress = (list: Lease[]): Lease[] => [...list].sort((x, y) => x.address.localeCompare(y.address));
  assert.deepEqual(byAddress(records.leasesOf('sb1')), [
    { network: 'a', address: '10.0.0.2', owner: 'sb1', ifname: 'eth0' },
    { network: 'a', address: '10.0.0.9', owner: 'sb1', ifname: 'eth2' },
    { network: 'b', address: '10.1.0.2', owner: 'sb1', ifname: 'eth1' },
    { network: 'a', address: 'fd00::9', owner: 'sb1', ifname: 'eth2' },
  ]);
  assert.deepEqual(records.leasesOf('sb1', 'b'), [{ network: 'b', address: '10.1.0.2', owner: 'sb1', ifname: 'eth1' }]);
  assert.deepEqual(records.leasesIn('a').map((l) => l.address).sort(), ['10.0.0.2', '10.0.0.3', '10.0.0.9', 'fd00::9']);
  const networks = records.allLeases().map((l) => l.network);
  assert.deepEqual(networks, [...networks].sort(), 'allLeases: by network first');
  assert.deepEqual(records.allLeases().map((l) => `${l.network} ${l.address}`).sort(), ['a 10.0.0.2', 'a 10.0.0.3', 'a 10.0.0.9', 'a fd00::9', 'b 10.1.0.2']);
});

void test('a lease that fails leases nothing: a throwing pick, an address already leased, an unknown network', (t) => {
  const records = new NetworkRecords(openTestDb(t, tempStoreDir(t)));
  records.insert(net('a'));
  records.lease('a', 'sb1', 'eth0', () => ['10.0.0.2']);
  assert.throws(() => records.lease('a', 'sb2', 'eth0', () => { throw new Error('full'); }), /full/);
  assert.throws(() => records.lease('a', 'sb2', 'eth0', () => ['10.0.0.3', '10.0.0.2']), { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
  assert.throws(() => records.lease('nope', 'sb2', 'eth0', () => ['10.0.0.4']), { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
  assert.deepEqual(records.leasesOf('sb2'), [], 'all or nothing: not even 10.0.0.3');
  assert.deepEqual(records.allLeases().map((l) => l.address), ['10.0.0.2']);
});

void test('release by owner and network, or by owner on every network; delete refuses a network in use', (t) => {
  const records = new NetworkRecords(openTestDb(t, tempStoreDir(t)));
  records.insert(net('a', '10.0.0.0/24'));
  records.insert(net('b', '10.1.0.0/24'));
  records.lease('a', 'sb1', 'eth0', () => ['10.0.0.2', '10.0.0.3']);
  records.lease('b', 'sb1', 'eth1', () => ['10.1.0.2']);
  records.lease('a', 'sb2', 'eth0', () => ['10.0.0.4']);
  assert.equal(records.delete('a'), 'in-use');
  assert.ok(records.get('a'), 'still there');
  assert.equal(records.release('sb1', 'a'), 2);
  assert.deepEqual(records.allLeases().map((l) => `${l.owner} ${l.address}`).sort(), ['sb1 10.1.0.2', 'sb2 10.0.0.4'], "sb1's lease on b and sb2's stay");
  assert.equal(records.release('sb1'), 1);
  assert.equal(records.release('sb1'), 0);
  assert.equal(records.delete('a'), 'in-use', 'sb2 still holds an address');
  assert.equal(records.delete('b'), 'deleted');
  assert.equal(records.release('sb2'), 1);
  assert.equal(records.delete('a'), 'deleted');
  assert.deepEqual(records.list(), []);
});

void test('lease is one transaction: another connection cannot lease between the pick and the insert', (t) => {
  const dir = tempStoreDir(t);
  const a = new NetworkRecords(openTestDb(t, dir));
  const b = new NetworkRecords(impatientDb(t, dir));
  a.insert(net('n'));
  const got = a.lease('n', 'sb1', 'eth0', (taken) => {
    const chosen = next('10.0.0.')(taken);
    // Another process picking now would see the same free address.
    assert.throws(() => b.lease('n', 'sb2', 'eth0', next('10.0.0.')), { code: 'SQLITE_BUSY' });
    return chosen;
  });
  assert.deepEqual(got, ['10.0.0.2']);
  assert.deepEqual(b.lease('n', 'sb2', 'eth0', next('10.0.0.')), ['10.0.0.3'], 'afterwards it sees the first lease');
});

void test('two connections leasing on one network at the same time never get the same address', async (t) => {
  const dir = tempStoreDir(t);
  const records = new NetworkRecords(openTestDb(t, dir));
  records.insert(net('n', '10.0.0.0/24'));
  const COUNT = 100;
  const [first, second] = await inWorkers<string[]>(dir, 2, { kind: 'lease', network: 'n', base: '10.0.0.', count: COUNT });
  assert.equal(first!.length, COUNT);
  assert.equal(second!.length, COUNT);
  const all = [...first!, ...second!];
  assert.equal(new Set(all).size, 2 * COUNT, 'no address twice');
  assert.deepEqual(records.leasesIn('n').map((l) => l.address).sort(), all.sort(), 'the records hold exactly what was handed out');
  assert.deepEqual(records.leasesOf('owner0').map((l) => l.address).sort(), [...first!].sort());
});
