/**
 * Test helper: a tiny DNS server for name-resolution tests, as a Node program (node:dgram)
 * written to a temporary directory and run wherever a test needs it (usually the namespace
 * playing the outside world, via `ip netns exec`). It answers UDP queries on port 53 for one
 * name: an A record with one address; any other type of that name, no records (NODATA); any
 * other name, NXDOMAIN. Each query is printed as `query TYPE NAME from ADDRESS` (so a test
 * sees where it came from, e.g. the host's address after masquerade); `ready` once listening.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RESPONDER = `
import { createSocket } from 'node:dgram';
const [name, address] = [process.argv[2].toLowerCase(), process.argv[3]];
const TYPES = { 1: 'A', 28: 'AAAA', 5: 'CNAME', 15: 'MX', 16: 'TXT' };
const sock = createSocket('udp4');
sock.on('message', (q, peer) => {
  if (q.length < 12 || (q[2] & 0x80) !== 0 || q.readUInt16BE(4) !== 1) return;
  const labels = [];
  let at = 12;
  while (at < q.length && q[at] !== 0) {
    labels.push(q.subarray(at + 1, at + 1 + q[at]).toString('latin1'));
    at += 1 + q[at];
  }
  if (at + 5 > q.length) return;
  const qname = labels.join('.').toLowerCase();
  const qtype = q.readUInt16BE(at + 1);
  const question = q.subarray(12, at + 5);
  console.log('query ' + (TYPES[qtype] ?? qtype) + ' ' + qname + ' from ' + peer.address);
  const known = qname === name;
  const answer = known && qtype === 1
    ? Buffer.concat([Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]), Buffer.from(address.split('.').map(Number))])
    : Buffer.alloc(0);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.readUInt16BE(0), 0);
  header[2] = 0x84 | (q[2] & 0x79); // QR, AA, the query's opcode and RD
  header[3] = 0x80 | (known ? 0 : 3); // RA; NOERROR or NXDOMAIN
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answer.length > 0 ? 1 : 0, 6);
  sock.send(Buffer.concat([header, question, answer]), peer.port, peer.address);
});
sock.bind(53, '0.0.0.0', () => console.log('ready'));
`;

const program = ((): string => {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-dns-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true })); // the test process's: gone with it
  const path = join(dir, 'responder.mjs');
  writeFileSync(path, RESPONDER);
  return path;
})();

/** argv for a responder answering `name` with the IPv4 `address` on UDP port 53. */
export function dnsResponderArgv(name: string, address: string): string[] {
  return [process.execPath, program, name, address];
}
