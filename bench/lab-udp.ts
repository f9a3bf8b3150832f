/**
 * Bench helper (lab-impair): a UDP datagram counter, run inside a node's namespace by
 * bench/lab-impair.bench.ts through nsenter.
 *
 *   node lab-udp.js recv PORT          prints "ready", then counts distinct sequence numbers
 *                                      until stdin closes; prints the count
 *   node lab-udp.js send ADDR PORT N   sends N numbered datagrams, paced (bursts of 50, 1 ms
 *                                      apart) so no socket buffer overflows: what is lost is
 *                                      what the link's impairment drops
 */
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';

const [mode, a1, a2, a3] = process.argv.slice(2);

if (mode === 'recv') {
  const sock = createSocket('udp4');
  const seen = new Set<number>();
  sock.on('message', (msg) => { if (msg.length >= 4) seen.add(msg.readUInt32BE(0)); });
  sock.bind(Number(a1), () => process.stdout.write('ready\n'));
  process.stdin.resume();
  process.stdin.on('end', () => {
    process.stdout.write(`${seen.size}\n`);
    sock.close();
    process.exit(0);
  });
} else if (mode === 'send') {
  const sock = createSocket('udp4');
  const n = Number(a3);
  const send = (i: number): Promise<void> => new Promise((res, rej) => {
    const buf = Buffer.alloc(64);
    buf.writeUInt32BE(i, 0);
    sock.send(buf, Number(a2), a1, (err) => (err ? rej(err) : res()));
  });
  for (let i = 0; i < n; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, k) => send(i + k)));
    await sleep(1);
  }
  sock.close();
} else {
  process.stderr.write('usage: lab-udp.js recv PORT | send ADDR PORT N\n');
  process.exit(2);
}
