/**
 * Integration (throwaway host): host ports for published ports. A port a host process holds is
 * refused (NSBOX_ERR_IN_USE, naming it) and nothing stays held; a held port cannot be taken by
 * another server until released; port 0 gets a free port from the kernel; 0.0.0.0 and [::]
 * are separate claims; TCP and UDP are separate; a host address the host does not have is a
 * TypeError. The oracle is Node's own net/dgram servers binding the same ports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { HostPortHold } from '../../../src/firewall/host-ports.js';

/** Whether a plain Node TCP server can listen on host:port (SO_REUSEADDR, as most servers set it). */
/** 'listening' or 'error', whichever the emitter says first. */
function outcome(emitter: { once(event: string, fn: () => void): unknown }): Promise<'listening' | 'error'> {
  return new Promise((resolve) => {
    emitter.once('listening', () => resolve('listening'));
    emitter.once('error', () => resolve('error'));
  });
}

async function canListen(port: number, host = '0.0.0.0'): Promise<boolean> {
  const server: Server = createServer();
  server.listen({ port, host, exclusive: true });
  const event = await outcome(server);
  if (event === 'listening') await new Promise<void>((resolve) => server.close(() => resolve()));
  return event === 'listening';
}

async function canBindUdp(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  s.bind(port, '0.0.0.0');
  const event = await outcome(s);
  s.close();
  return event === 'listening';
}

test('a held port cannot be taken by a server until released; port 0 gets free, distinct ports', async () => {
  const hold = HostPortHold.take([
    { protocol: 'tcp', family: 4, hostIp: undefined, hostPort: 0 },
    { protocol: 'tcp', family: 4, hostIp: undefined, hostPort: 0 },
    { protocol: 'udp', family: 4, hostIp: undefined, hostPort: 0 },
  ]);
  const [a, b, u] = hold.claims.map((c) => c.hostPort);
  assert.ok(a! > 0 && b! > 0 && a !== b, `kernel-picked ports ${a} ${b}`);
  assert.equal(await canListen(a!), false, 'a server cannot take a held TCP port, even with SO_REUSEADDR');
  assert.equal(await canListen(a!, '127.0.0.1'), false, 'nor on one address of it');
  assert.equal(await canBindUdp(u!), false, 'nor a held UDP port');
  hold.release();
  hold.release(); // idempotent
  assert.equal(await canListen(a!), true, 'free again after release');
  assert.equal(await canBindUdp(u!), true);
});

test('a port a host process holds is refused, naming it, and nothing stays held', async () => {
  const server = createServer();
  server.listen({ port: 0, host: '0.0.0.0' });
  await once(server, 'listening');
  const busy = (server.address() as { port: number }).port;
  try {
    const free = HostPortHold.take([{ protocol: 'tcp', family: 4, hostIp: undefined, hostPort: 0 }]);
    const freePort = free.claims[0]!.hostPort;
    free.release();
    assert.throws(
      () => HostPortHold.take([{ protocol: 'tcp', family: 4, hostIp: undefined, hostPort: freePort }, { protocol: 'tcp', family: 4, hostIp: '127.0.0.1', hostPort: busy }]),
      (err: unknown) => (err as { code?: string }).code === 'NSBOX_ERR_IN_USE' && (err as Error).message.includes(`127.0.0.1:${busy}/tcp is in use`),
    );
    assert.equal(await canListen(freePort), true, 'the first port of the failed batch was released');
    // The same number is free for UDP, and for IPv6 only ([::] with V6ONLY is its own claim).
    const other = HostPortHold.take([{ protocol: 'udp', family: 4, hostIp: undefined, hostPort: busy }, { protocol: 'tcp', family: 6, hostIp: undefined, hostPort: freePort }]);
    other.release();
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('0.0.0.0 and [::] are separate claims of one port number', () => {
  const v4 = HostPortHold.take([{ protocol: 'tcp', family: 4, hostIp: undefined, hostPort: 0 }]);
  const port = v4.claims[0]!.hostPort;
  const v6 = HostPortHold.take([{ protocol: 'tcp', family: 6, hostIp: undefined, hostPort: port }]);
  assert.equal(v6.claims[0]!.hostPort, port);
  assert.throws(() => HostPortHold.take([{ protocol: 'tcp', family: 6, hostIp: '::1', hostPort: port }]), { code: 'NSBOX_ERR_IN_USE' });
  v6.release();
  v4.release();
});

test('an address this host does not have is a TypeError', () => {
  assert.throws(() => HostPortHold.take([{ protocol: 'tcp', family: 4, hostIp: '192.0.2.77', hostPort: 0 }]), (err: unknown) => err instanceof TypeError && /192\.0\.2\.77 is not an address of this host/.test(err.message));
});
