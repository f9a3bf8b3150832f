/**
 * Test helpers for labs (test/integration/lab/): a lab file in a temporary directory, commands
 * run in a node's namespace (through /run/netns/LAB.NODE), pings, counted UDP datagrams between
 * nodes, and the iproute2/nft oracles of a link's rate and loss.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export function writeLab(t: TestContext, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-lab-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'lab.yaml');
  writeFileSync(file, text);
  return file;
}

/** Run a command in a sandbox's namespace (through its /run/netns name). */
export function inNode(sandbox: string, cmd: string, ...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('nsenter', [`--net=/run/netns/${sandbox}`, cmd, ...args], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** Whether `to` answers a ping from the node (two echoes, each given 2 s: a loaded machine answers late). */
export const pings = (sandbox: string, to: string): boolean => inNode(sandbox, 'ping', '-c', '2', '-i', '0.2', '-W', '2', '-q', to).ok;

/** The root tbf's rate (bit/s) on an interface, by `tc -j` (which prints bytes/s), or undefined. */
export function tbfRate(sandbox: string, iface: string): number | undefined {
  const qdiscs = JSON.parse(inNode(sandbox, 'tc', '-j', 'qdisc', 'show', 'dev', iface).out) as { kind: string; root?: boolean; options?: { rate?: number } }[];
  const tbf = qdiscs.find((q) => q.kind === 'tbf' && q.root === true);
  return tbf === undefined ? undefined : (tbf.options?.rate ?? 0) * 8;
}

/** The loss element of an interface in the node's fault table, as nft prints it (`"eth1" . 0-199999`), or undefined. */
export function lossElement(sandbox: string, iface: string): string | undefined {
  const out = inNode(sandbox, 'nft', 'list', 'set', 'inet', 'nsbox_fault', 'loss').out;
  return new RegExp(`"${iface}" \\. 0-\\d+`).exec(out)?.[0];
}

/** Datagrams from node `from` to node `to` (at `address`): how many of `count` arrive. */
export async function udpAcross(lab: string, from: string, to: string, address: string, count: number, port = 9000): Promise<number> {
  const receiver = spawn('nsenter', [`--net=/run/netns/${lab}.${to}`, process.execPath, '-e', `
    const s = require('node:dgram').createSocket('${address.includes(':') ? 'udp6' : 'udp4'}');
    let n = 0, timer;
    const done = () => { console.log('count ' + n); process.exit(0); };
    s.on('message', (m) => { if (m.toString() === 'end') { clearTimeout(timer); timer = setTimeout(done, 300); } else n++; });
    // A large receive buffer: a receiver starved of CPU (a loaded machine) must not drop what the
    // impairment let through (rmem_max is 4 MiB in a fresh namespace here; 1000 datagrams take ~1 MiB).
    s.bind(${port}, '${address}', () => { s.setRecvBufferSize(4 << 20); console.log('ready'); });
    process.on('SIGTERM', done);
  `]);
  let out = '';
  receiver.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  while (!out.includes('ready')) await once(receiver.stdout, 'data');
  const sent = spawnSync('nsenter', [`--net=/run/netns/${lab}.${from}`, process.execPath, '-e', `
    const s = require('node:dgram').createSocket('${address.includes(':') ? 'udp6' : 'udp4'}');
    const send = (m) => new Promise((res, rej) => s.send(m, ${port}, '${address}', (e) => e ? rej(e) : res()));
    const pause = () => new Promise((res) => setTimeout(res, 1));
    (async () => {
      for (let i = 0; i < ${count}; i++) { await send('x' + i); if (i % 20 === 19) await pause(); }
      // 'end' is repeated: each copy may be lost too.
      for (let i = 0; i < 50; i++) { await send('end'); await pause(); }
      s.close();
    })().catch((e) => { console.error(e.message); process.exit(1); });
  `], { encoding: 'utf8' });
  // No 'end' arrives when everything is dropped (or the sender could not send): then the receiver is told to stop.
  const exited = once(receiver, 'exit');
  const stop = setTimeout(() => receiver.kill('SIGTERM'), sent.status === 0 ? 2000 : 0);
  await exited;
  clearTimeout(stop);
  const m = /count (\d+)/.exec(out);
  assert.ok(m, out);
  return Number(m[1]);
}

/** Whether `received` of `n` is within 8 standard deviations of a `loss` share lost. */
export function inLossBand(received: number, n: number, loss: number): boolean {
  const sd = Math.sqrt(n * loss * (1 - loss));
  return Math.abs(received - n * (1 - loss)) < 8 * sd;
}
