/**
 * Test helper: traffic probes for firewall tests, as two small Node programs written to a
 * temporary directory and run wherever a test needs them (a sandbox via `nsbox run`/`exec`, a
 * namespace playing the outside world via `ip netns exec`, or the host). The server answers
 * every TCP connection and UDP datagram on a port (IPv4 and IPv6) with `NAME peer=ADDRESS`, so a
 * check sees which source address the far end observed; it prints `ready` once listening, and
 * `connection from ADDRESS` for each TCP connection (what a server saw, even if no answer got back). The
 * client sends one probe and prints the answer, or `timeout`/`error CODE` (exit 1); given a
 * source port, it sends from that one (the same UDP flow for conntrack, again and again).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SERVER = `
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
const [name, port] = [process.argv[2], Number(process.argv[3])];
const strip = (a) => a.replace(/^::ffff:/, '');
const tcp = createServer((s) => { console.log('connection from ' + strip(s.remoteAddress)); s.end(name + ' peer=' + strip(s.remoteAddress) + '\\n'); });
let waiting = 2;
const ready = () => { if (--waiting === 0) console.log('ready'); };
tcp.listen({ port, host: '::', ipv6Only: false }, ready);
const udp = createSocket({ type: 'udp6', ipv6Only: false });
udp.on('message', (m, r) => udp.send(name + ' peer=' + strip(r.address) + '\\n', r.port, r.address));
udp.bind(port, '::', ready);
`;

const CLIENT = `
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
const [proto, host, port, ms, from] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5]), Number(process.argv[6] || 0)];
const done = (text, ok) => { console.log(text); process.exit(ok ? 0 : 1); };
setTimeout(() => done('timeout', false), ms);
if (proto === 'tcp') {
  const s = connect({ host, port, ...(from ? { localPort: from } : {}) });
  let data = '';
  s.on('data', (d) => { data += d; });
  s.on('end', () => done(data.trim(), data.length > 0));
  s.on('error', (e) => done('error ' + e.code, false));
} else {
  const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  s.on('message', (m) => done(String(m).trim(), true));
  s.on('error', (e) => done('error ' + e.code, false));
  s.bind(from, () => s.send('probe', port, host));
}
`;

/** The two programs' paths (written once per process). */
export const probes: { server: string; client: string } = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-probe-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true })); // the test process's: gone with it
  const server = join(dir, 'server.mjs');
  const client = join(dir, 'client.mjs');
  writeFileSync(server, SERVER);
  writeFileSync(client, CLIENT);
  return { server, client };
})();

/** argv for a probe client: `[node, client.mjs, proto, host, port, timeout ms, source port (0: any)]`. */
export function clientArgv(proto: 'tcp' | 'udp', host: string, port: number, options: { ms?: number; from?: number } = {}): string[] {
  return [process.execPath, probes.client, proto, host, String(port), String(options.ms ?? 1500), String(options.from ?? 0)];
}

/** argv for a probe server named `name` on `port`. */
export function serverArgv(name: string, port: number): string[] {
  return [process.execPath, probes.server, name, String(port)];
}
