/**
 * Unit (no root): src/store/port-records.ts on a temporary database. A batch of ports is
 * recorded all or none in state 'adding'; the same key, or a wildcard and a specific address of
 * one family on one port, is refused with the row in the way and nothing recorded; states move
 * and rows go by key; a second connection finds the database locked mid-insert.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PortRecords, type PortRecord } from '../../../src/store/index.js';
import { impatientDb, openTestDb, tempStoreDir } from '../../helpers/store.js';

type NewPort = Omit<PortRecord, 'state'>;
const port = (hostPort: number, o: Partial<NewPort> = {}): NewPort => ({
  family: 4, protocol: 'tcp', hostIp: '', hostPort, sandbox: 'web', network: 'nsbox0', address: '10.88.0.2', port: 80, ...o,
});

void test('insert records all in state adding; list, get, setState, delete by key', (t) => {
  const ports = new PortRecords(openTestDb(t, tempStoreDir(t)));
  assert.equal(ports.insert([port(8080), port(8080, { protocol: 'udp' }), port(8080, { family: 6, address: 'fd88::2' }), port(9000, { sandbox: 'db' })]), undefined);
  assert.deepEqual(ports.list().map((p) => [p.hostPort, p.protocol, p.family, p.state]), [[8080, 'tcp', 4, 'adding'], [8080, 'tcp', 6, 'adding'], [8080, 'udp', 4, 'adding'], [9000, 'tcp', 4, 'adding']]);
  assert.deepEqual(ports.list('db').map((p) => p.hostPort), [9000]);
  assert.deepEqual(ports.get(port(8080)), { ...port(8080), state: 'adding' });
  ports.setState([port(8080), port(9000)], 'active');
  assert.deepEqual(ports.list().map((p) => p.state), ['active', 'adding', 'adding', 'active']);
  assert.equal(ports.delete([port(8080), port(8080, { protocol: 'udp' }), port(1)]), 2, 'what was recorded');
  assert.deepEqual(ports.list().map((p) => [p.hostPort, p.family]), [[8080, 6], [9000, 4]]);
});

void test('a taken port is refused with the row in the way, and the whole batch is recorded or none of it', (t) => {
  const ports = new PortRecords(openTestDb(t, tempStoreDir(t)));
  assert.equal(ports.insert([port(8080, { hostIp: '127.0.0.1' })]), undefined);
  const cases: [NewPort[], number, string][] = [
    [[port(7000), port(8080, { hostIp: '127.0.0.1', sandbox: 'other' })], 8080, 'the same key'],
    [[port(7000), port(8080)], 8080, 'every address overlaps one address'],
    [[port(8080, { hostIp: '192.0.2.1' }), port(8080)], 8080, 'one address (after another) overlaps'],
  ];
  for (const [batch, taken, why] of cases) {
    const clash = ports.insert(batch);
    assert.equal(clash?.hostPort, taken, why);
    assert.equal(clash?.hostIp, '127.0.0.1', why);
    assert.deepEqual(ports.list().map((p) => [p.hostIp, p.hostPort]), [['127.0.0.1', 8080]], `${why}: nothing else recorded`);
  }
  assert.equal(ports.insert([port(8080, { hostIp: '192.0.2.1', protocol: 'udp' }), port(8080, { family: 6, hostIp: '::1', address: 'fd88::2' })]), undefined, 'other protocol, other family');
});

void test('insert is one transaction: another connection finds the database locked while it runs', (t) => {
  const dir = tempStoreDir(t);
  const ports = new PortRecords(openTestDb(t, dir));
  const other = impatientDb(t, dir);
  let sawLock = false;
  // Inside the transaction, between two inserts, the other connection tries to write.
  const batch = [port(1000), port(1001)];
  Object.defineProperty(batch, 1, {
    get(): NewPort {
      try {
        other.prepare("INSERT INTO ports (family, protocol, host_ip, host_port, sandbox, network, address, port, state, created_at) VALUES (4, 'tcp', '', 2000, 'x', 'n', '10.0.0.9', 1, 'adding', 'now')").run();
      } catch (err) {
        sawLock = (err as { code?: string }).code === 'SQLITE_BUSY';
      }
      return port(1001);
    },
  });
  assert.equal(ports.insert(batch), undefined);
  assert.equal(sawLock, true, 'the other connection met the lock');
  assert.deepEqual(ports.list().map((p) => p.hostPort), [1000, 1001]);
});
