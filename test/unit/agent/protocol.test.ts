/**
 * Unit: the agent's frames (src/agent/protocol.ts) and the native shim speaking them
 * (build/Release/nsbox-cni, native/cni-shim.c) to a server made of protocol.ts in this
 * process, on a socket in a temporary directory (NSBOX_AGENT_SOCKET): the request carries
 * the kind, stdin byte for byte (1 MiB, any bytes) and the whole environment; the reply's
 * stdout, stderr and exit code come out of the shim; a reply cut short answers an ADD with
 * CNI error 11 in the config's version; a declined call and a missing socket run the
 * in-process plugin (answered here by VERSION, which needs no root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  MAGIC, ProtocolError, STATUS, decodeReply, decodeRequest, decodeTarget, encodeReply, encodeRequest, encodeTarget, type AgentReply, type AgentRequest,
} from '../../../src/agent/protocol.js';

const SHIM = fileURLToPath(new URL('../../../../build/Release/nsbox-cni', import.meta.url));

test('requests and replies round trip; a partial frame is undefined; bad frames throw', () => {
  const req: AgentRequest = { kind: 'cni', stdin: '{"a":"\u00e9\\n\u0000"}', env: { CNI_COMMAND: 'ADD', EMPTY: '', WITH_EQ: 'a=b=c' } };
  const bytes = encodeRequest(req);
  assert.deepEqual(decodeRequest(bytes), req);
  for (let n = 0; n < bytes.length; n++) assert.equal(decodeRequest(bytes.subarray(0, n)), undefined, `prefix of ${n} bytes`);
  const rep: AgentReply = { status: STATUS.served, exitCode: 1, stdout: '{"code":7}\n', stderr: 'x' };
  assert.deepEqual(decodeReply(encodeReply(rep)), rep);
  assert.throws(() => decodeRequest(Buffer.from('HTTP/1.1 GET')), ProtocolError);
  const badVersion = Buffer.concat([MAGIC, Buffer.from([0, 0, 0, 2, 0, 0, 0, 2])]);
  assert.throws(() => decodeRequest(badVersion), /protocol version 2/);
  const tooMany = Buffer.concat([MAGIC, Buffer.from([0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff])]);
  assert.throws(() => decodeRequest(tooMany), ProtocolError);
  assert.throws(() => decodeRequest(Buffer.concat([bytes, Buffer.from([0])])), /bytes after/);
});

interface Run { status: number | null; stdout: Buffer; stderr: string }

function runShim(env: Record<string, string>, stdin: Buffer): Promise<Run> {
  const child = spawn(SHIM, [], { env });
  child.stdin.end(stdin);
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr })));
}

/** A server answering each request with `answer(request)` (raw bytes), collecting the requests. */
async function server(path: string, answer: (r: AgentRequest) => Buffer): Promise<{ server: Server; seen: AgentRequest[] }> {
  const seen: AgentRequest[] = [];
  const srv = createServer({ allowHalfOpen: true }, (conn: Socket) => {
    let buf = Buffer.alloc(0);
    conn.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const r = decodeRequest(buf);
      if (r === undefined) return;
      seen.push(r);
      conn.end(answer(r));
    });
  });
  await new Promise<void>((resolve) => srv.listen(path, resolve));
  return { server: srv, seen };
}

test('a hand-off target round trips as NAME\\0NETNS\\0ETCDIR; anything else is no target', () => {
  const t = { name: 'run-0a1b2c3d', netns: '/var/lib/nsbox/run/netns/run-0a1b2c3d', etcDir: '/etc/netns/run-0a1b2c3d' };
  assert.equal(encodeTarget(t), 'run-0a1b2c3d\0/var/lib/nsbox/run/netns/run-0a1b2c3d\0/etc/netns/run-0a1b2c3d');
  assert.deepEqual(decodeTarget(encodeTarget(t)), t);
  for (const bad of ['', 'a\0b', 'a\0b\0c\0d', '\0/n\0/e', 'a\0\0/e', JSON.stringify(t)]) assert.equal(decodeTarget(bad), undefined, JSON.stringify(bad));
});

test('the shim sends kind, stdin and environment, and prints the reply', { skip: !existsSync(SHIM) && 'the shim is not built (npm run build:addon)' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nsbox-shim-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'agent.sock');
  const stdout = `${'{"big":"'.padEnd(70_000, 'x')}"}\n`;
  const { server: srv, seen } = await server(socket, () => encodeReply({ status: STATUS.served, exitCode: 7, stdout, stderr: 'warn\n' }));
  t.after(() => srv.close());
  const stdin = Buffer.alloc(1 << 20);
  for (let i = 0; i < stdin.length; i++) stdin[i] = (i * 7) & 0x7f;
  const env = { NSBOX_AGENT_SOCKET: socket, CNI_COMMAND: 'ADD', ODD: 'a=b\n"\\' };
  const res = await runShim(env, stdin);
  assert.equal(res.status, 7, res.stderr);
  assert.equal(res.stdout.toString(), stdout);
  assert.equal(res.stderr, 'warn\n');
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.kind, 'cni');
  assert.ok(Buffer.from(seen[0]!.stdin).equals(stdin));
  assert.deepEqual(seen[0]!.env, env);
});

test('a reply cut short: ADD answers 11 in the config\'s version; DEL, and a declined call, run in-process', { skip: !existsSync(SHIM) && 'the shim is not built' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nsbox-shim-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cut = join(dir, 'cut.sock');
  const { server: s1 } = await server(cut, () => encodeReply({ status: STATUS.served, exitCode: 0, stdout: 'x'.repeat(100), stderr: '' }).subarray(0, 20));
  t.after(() => s1.close());
  const config = Buffer.from('{"cniVersion": "0.4.0", "name": "n", "type": "nsbox-cni"}');
  const add = await runShim({ NSBOX_AGENT_SOCKET: cut, CNI_COMMAND: 'ADD' }, config);
  assert.equal(add.status, 1);
  const err = JSON.parse(add.stdout.toString()) as { cniVersion: string; code: number };
  assert.deepEqual([err.cniVersion, err.code], ['0.4.0', 11]);

  // VERSION stands for "any command that is safe to repeat": the in-process plugin answers it.
  const version = await runShim({ NSBOX_AGENT_SOCKET: cut, CNI_COMMAND: 'VERSION', PATH: process.env.PATH ?? '/usr/bin:/bin' }, config);
  assert.equal(version.status, 0, version.stderr);
  assert.equal((JSON.parse(version.stdout.toString()) as { cniVersion: string }).cniVersion, '0.4.0');

  const declining = join(dir, 'declining.sock');
  const { server: s2 } = await server(declining, () => encodeReply({ status: STATUS.declined, exitCode: 0, stdout: '', stderr: 'another root' }));
  t.after(() => s2.close());
  const declined = await runShim({ NSBOX_AGENT_SOCKET: declining, CNI_COMMAND: 'VERSION', PATH: process.env.PATH ?? '/usr/bin:/bin' }, config);
  assert.equal(declined.status, 0, declined.stderr);
  assert.match(declined.stderr, /declined \(another root\)/);
  assert.ok(JSON.parse(declined.stdout.toString()));

  const none = await runShim({ NSBOX_AGENT_SOCKET: join(dir, 'none.sock'), CNI_COMMAND: 'VERSION', PATH: process.env.PATH ?? '/usr/bin:/bin' }, config);
  assert.equal(none.status, 0, none.stderr);
  assert.equal(none.stderr, '');
});
