/**
 * Unit: the `nsbox run` client's side of the hand-off to the agent (src/cli/run-handoff.ts),
 * against a server made of protocol.ts in this process: which arguments it hands off (only
 * the options the agent takes; anything else is the CLI's), its default root equal to the
 * library's, and when it leaves the command to the CLI: no socket, NSBOX_AGENT=0, NSBOX_HOST,
 * a declined call (nothing reaped), an agent that closes without an answer (the call's
 * sandbox reaped first, under the name the request carried). The served path needs root:
 * test/integration/cli/run-handoff.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ROOT_DIR, handOff, parseExecArgv, parseRunArgv } from '../../../src/cli/run-handoff.js';
import { DEFAULT_ROOT } from '../../../src/managed/index.js';
import { STATUS, decodeRequest, encodeReply, type AgentRequest } from '../../../src/agent/protocol.js';

test('the arguments handed off: run with --name, --network, --ip, --dns and -- CMD; anything else is the CLI\'s', () => {
  assert.deepEqual(parseRunArgv(['run', '--', 'true']), { root: undefined, argv: ['true'], name: undefined, networks: [], ip: undefined, dns: [] });
  assert.deepEqual(parseRunArgv(['--root', '/r', 'run', '--name', 'a', '--network', 'n1', '--network', 'n2', '--ip', '10.0.0.2', '--dns', '1.1.1.1', '--', 'sh', '-c', 'x --json']), {
    root: '/r', argv: ['sh', '-c', 'x --json'], name: 'a', networks: ['n1', 'n2'], ip: '10.0.0.2', dns: ['1.1.1.1'],
  });
  for (const argv of [
    ['run', 'true'], ['run', '--'], ['run', '--keep', '--', 'true'], ['run', '-p', '80', '--', 'true'], ['--json', 'run', '--', 'true'],
    ['run', '--json', '--', 'true'], ['run', '--help'], ['run', '--name', '--', 'true'], ['run', '--name', 'a', '--name', 'b', '--', 'true'],
    ['run', '--name=a', '--', 'true'], ['--host', 'h', 'run', '--', 'true'], ['--root', '', 'run', '--', 'true'], ['exec', 'x', '--', 'true'], ['help', 'run'],
  ]) assert.equal(parseRunArgv(argv), undefined, argv.join(' '));
});

test('the exec arguments handed off: exec NAME -- CMD only', () => {
  assert.deepEqual(parseExecArgv(['exec', 'a', '--', 'sh', '-c', 'x']), { root: undefined, name: 'a', argv: ['sh', '-c', 'x'] });
  assert.deepEqual(parseExecArgv(['--root', '/r', 'exec', 'a', '--', 'true']), { root: '/r', name: 'a', argv: ['true'] });
  for (const argv of [['exec', 'a', 'true'], ['exec', 'a', '--'], ['exec', '--help'], ['exec', '-x', '--', 'true'], ['--json', 'exec', 'a', '--', 'true'], ['--root', '', 'exec', 'a', '--', 'true'], ['run', '--', 'true']]) {
    assert.equal(parseExecArgv(argv), undefined, argv.join(' '));
  }
});

test("the client's default root is the library's", () => {
  assert.equal(DEFAULT_ROOT_DIR, DEFAULT_ROOT);
});

async function withAgent(answer: (req: AgentRequest, conn: Socket) => void, fn: (socket: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-handoff-'));
  const socket = join(dir, 'agent.sock');
  const server: Server = createServer((conn) => {
    let buf = Buffer.alloc(0);
    conn.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const req = decodeRequest(buf);
      if (req !== undefined) answer(req, conn);
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  const saved = { ...process.env };
  try {
    await fn(socket);
  } finally {
    process.env = saved;
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const HELPER = '/bin/true'; // must exist; never started on these paths

test('left to the CLI: no socket, NSBOX_AGENT=0, NSBOX_HOST, a declined call; an agent gone without an answer has the call reaped first', async () => {
  const reaped: [string | undefined, string][] = [];
  const reap = (root: string | undefined, name: string): Promise<void> => { reaped.push([root, name]); return Promise.resolve(); };
  const requests: AgentRequest[] = [];
  await withAgent((req, conn) => {
    requests.push(req);
    if (JSON.parse(req.stdin).name === 'gone') conn.destroy();
    else conn.end(encodeReply({ status: STATUS.declined, exitCode: 0, stdout: '', stderr: 'no network nsbox0 yet' }));
  }, async (socket) => {
    process.env.NSBOX_AGENT_SOCKET = join(socket, '..', 'elsewhere.sock');
    assert.equal(await handOff(['run', '--', 'true'], HELPER, reap), undefined, 'no socket');
    process.env.NSBOX_AGENT_SOCKET = socket;
    process.env.NSBOX_AGENT = '0';
    assert.equal(await handOff(['run', '--', 'true'], HELPER, reap), undefined, 'NSBOX_AGENT=0');
    delete process.env.NSBOX_AGENT;
    process.env.NSBOX_HOST = 'h1';
    assert.equal(await handOff(['run', '--', 'true'], HELPER, reap), undefined, 'NSBOX_HOST');
    delete process.env.NSBOX_HOST;
    assert.equal(requests.length, 0, 'none of those asked the agent');

    assert.equal(await handOff(['--root', '/nsbt/r', 'run', '--dns', '192.0.2.1', '--', 'sh', '-c', 'exit 3'], HELPER, reap), undefined, 'declined');
    assert.deepEqual(reaped, [], 'a declined call made nothing to reap');
    assert.equal(requests[0]!.kind, 'run');
    assert.equal(requests[0]!.env.NSBOX_ROOT, '/nsbt/r');
    const spec = JSON.parse(requests[0]!.stdin) as { argv: string[]; name: string; dns: string[] };
    assert.deepEqual(spec.argv, ['sh', '-c', 'exit 3']);
    assert.deepEqual(spec.dns, ['192.0.2.1']);
    assert.match(spec.name, /^run-[0-9a-f]{8}$/, 'the client names the sandbox, so it can reap it');

    assert.equal(await handOff(['run', '--name', 'gone', '--', 'true'], HELPER, reap), undefined, 'gone without an answer');
    assert.deepEqual(reaped, [[undefined, 'gone']]);
  });
});
