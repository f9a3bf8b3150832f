/**
 * Integration (root, throwaway host): more of issue 16's security promises (docs/reliability.md
 * "Security"). The agent's unix socket is root-only (0600, owned by root: a user without root
 * cannot connect, also when the socket's directory is open to all); etcd credentials never
 * reach the output or the state root; a symlink planted at ROOT/labs/LAB is never followed into
 * writing; the CNI plugin run without root answers a spec error saying it needs root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootForTest, waitForOutput, type NsboxRoot } from '../../helpers/cli.js';

const NOBODY = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'];

/** Connect to a unix socket as uid 65534: the error code, or 'connected'. */
function connectAsNobody(socket: string): string {
  const script = "const s=require('net').connect(process.argv[1]);s.on('connect',()=>{console.log('connected');s.destroy()});s.on('error',(e)=>console.log(e.code))";
  const res = spawnSync(NOBODY[0]!, [...NOBODY.slice(1), process.execPath, '-e', script, socket], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  return res.stdout.trim();
}

async function withAgent(root: NsboxRoot, args: string[], fn: () => void | Promise<void>): Promise<void> {
  const child = root.start(['agent', ...args]);
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { log += d; });
  try {
    await waitForOutput(child, 'stderr', 'listening on');
    await fn();
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited as [number | null];
    assert.equal(code, 0, log);
  }
}

test("the agent's unix socket is root-only: 0600, owned by root, and uid 65534 cannot connect (EACCES), also in a directory open to all", async (t) => {
  const root = rootForTest(t);
  await root.json('ls');
  const socket = join(root.root, 'agent.sock');
  await withAgent(root, [], () => {
    const st = statSync(socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600, 'the socket is 0600');
    assert.equal(st.uid, 0, 'owned by root');
    assert.equal(statSync(root.root).mode & 0o777, 0o700, 'in the 0700 root');
    assert.equal(connectAsNobody(socket), 'EACCES');
  });
  // The socket's own mode is what refuses: a socket in a 0755 directory anyone may traverse.
  const open = mkdtempSync(join(tmpdir(), 'nsbt-sock-'));
  t.after(() => rmSync(open, { recursive: true, force: true }));
  chmodSync(open, 0o755);
  const other = join(open, 'agent.sock');
  await withAgent(root, ['--socket', other], () => {
    assert.equal(statSync(other).mode & 0o777, 0o600);
    assert.equal(connectAsNobody(other), 'EACCES');
  });
});
