/**
 * Unit: the native hand-off client (native/handoff-client.c, build/Release/nsbox-handoff)
 * against an agent made of protocol.ts in this process, with a stand-in `node` first on PATH
 * that reports how the client fell back to the CLI. Which arguments it hands off (the same as
 * src/cli/run-handoff.ts takes), the request it sends (kind, the run spec as JSON whatever the
 * arguments hold, the root made absolute), and how it leaves a call to the CLI: the same
 * arguments, NSBOX_HANDOFF_TRIED=1, and NSBOX_HANDOFF_REAP=NAME only when the agent went away
 * without an answer. `ls`, `inspect`, `create`, `rm`: the "cli" request (the arguments after
 * --root, the root, the client's namespaces), the answer printed as the call's, the CLI's own
 * when an NSBOX_ variable changes what it does, and no repeat of a create or rm the agent broke
 * off. The served paths need root: test/integration/cli/run-handoff.test.ts, agent-cli.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { STATUS, decodeRequest, encodeReply, type AgentRequest } from '../../../src/agent/protocol.js';
import { packageRoot } from '../../../src/package-root.js';
import { CLI_COMMANDS } from '../../../src/agent/cli-service.js';

const CLIENT = join(packageRoot(), 'build/Release/nsbox-handoff');

interface Outcome {
  code: number | null;
  /** What the stand-in node was given: its arguments (after the script) and the hand-off variables. */
  cli: { args: string[]; tried?: string; reap?: string } | undefined;
  requests: AgentRequest[];
}

/** Run the client with `args` against an agent answering with `answer`, from `cwd`. */
async function client(args: string[], answer: (req: AgentRequest, conn: Socket) => void, env: NodeJS.ProcessEnv = {}, cwd = '/'): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-handoff-c-'));
  const socket = join(dir, 'agent.sock');
  const report = join(dir, 'cli.json');
  // the stand-in node: records argv (less the script) and the hand-off variables as JSON
  writeFileSync(join(dir, 'node'), `#!/bin/sh\nshift\nnode_args=""\nfor a in "$@"; do node_args="$node_args$(printf '%s' "$a" | od -An -tx1 | tr -d ' \\n') "; done\nprintf '{"args":"%s","tried":"%s","reap":"%s"}' "$node_args" "\${NSBOX_HANDOFF_TRIED:-}" "\${NSBOX_HANDOFF_REAP:-}" > ${report}\n`);
  chmodSync(join(dir, 'node'), 0o755);
  const requests: AgentRequest[] = [];
  const server = createServer((conn) => {
    let buf = Buffer.alloc(0);
    conn.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const req = decodeRequest(buf);
      if (req !== undefined) {
        requests.push(req);
        buf = Buffer.alloc(0);
        answer(req, conn);
      }
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  try {
    const child = spawn(CLIENT, args, { cwd, stdio: 'ignore', env: { PATH: `${dir}:/usr/bin:/bin`, NSBOX_AGENT_SOCKET: socket, ...env } });
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    let cli: Outcome['cli'];
    if (existsSync(report)) {
      const raw = JSON.parse(readFileSync(report, 'utf8')) as { args: string; tried: string; reap: string };
      cli = {
        args: raw.args.trim() === '' ? [] : raw.args.trim().split(' ').map((hex) => Buffer.from(hex, 'hex').toString('utf8')),
        ...(raw.tried === '' ? {} : { tried: raw.tried }),
        ...(raw.reap === '' ? {} : { reap: raw.reap }),
      };
    }
    return { code, cli, requests };
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const declined = (_req: AgentRequest, conn: Socket): void => { conn.end(encodeReply({ status: STATUS.declined, exitCode: 0, stdout: '', stderr: 'no network nsbox0 yet' })); };

const skip = !existsSync(CLIENT) && 'the client is not built (npm run build:addon)';

test('arguments only the CLI takes go to the CLI unchanged, without asking the agent', { skip }, async () => {
  for (const args of [['run', '--keep', '--', 'true'], ['run', '-p', '80', '--', 'true'], ['--json', 'run', '--', 'true'], ['run', '--'], ['exec', 'a', 'true'], ['--root', '', 'run', '--', 'true'], ['run', '--name', 'a', '--name', 'b', '--', 'true']]) {
    const o = await client(args, declined);
    assert.deepEqual(o.requests, [], args.join(' '));
    assert.deepEqual(o.cli, { args, tried: '1' }, args.join(' '));
  }
  const off = await client(['run', '--', 'true'], declined, { NSBOX_AGENT: '0' });
  assert.deepEqual({ requests: off.requests, cli: off.cli }, { requests: [], cli: { args: ['run', '--', 'true'], tried: '1' } }, 'NSBOX_AGENT=0');
  const host = await client(['run', '--', 'true'], declined, { NSBOX_HOST: 'h1' });
  assert.deepEqual(host.requests, [], 'NSBOX_HOST');
  // No agent answered: the CLI is told so ("noagent"), and starts one on demand after the call.
  const none = await client(['run', '--', 'true'], declined, { NSBOX_AGENT_SOCKET: '/nonexistent/agent.sock' });
  assert.deepEqual(none.cli, { args: ['run', '--', 'true'], tried: 'noagent' }, 'no agent');
  const dead = join(mkdtempSync(join(tmpdir(), 'nsbt-dead-')), 'agent.sock');
  const bound = spawnSync('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(dead)})`]);
  assert.equal(bound.status, 0, String(bound.stderr));
  const refused = await client(['ls'], declined, { NSBOX_AGENT_SOCKET: dead });
  assert.deepEqual(refused.cli, { args: ['ls'], tried: 'noagent' }, 'a dead agent\'s socket (connection refused)');
  rmSync(dirname(dead), { recursive: true, force: true });
});

test('the run request holds every argument exactly, the root made absolute; declined, the CLI runs it with nothing to reap', { skip }, async () => {
  const cmd = ['sh', '-c', 'printf "%s\\n" "a\\"b" \'\\\\\' \t', 'ünï', '\u0001'];
  const args = ['--root', 'rel/root', 'run', '--name', 'n1', '--network', 'a', '--network', 'b', '--ip', '10.0.0.2', '--dns', '192.0.2.1', '--', ...cmd];
  const o = await client(args, declined, {}, '/tmp');
  assert.equal(o.requests.length, 1);
  const [req] = o.requests;
  assert.equal(req!.kind, 'run');
  assert.deepEqual(req!.env, { NSBOX_ROOT: '/tmp/rel/root' });
  assert.deepEqual(JSON.parse(req!.stdin), { name: 'n1', argv: cmd, networks: ['a', 'b'], ip: '10.0.0.2', dns: ['192.0.2.1'] });
  assert.deepEqual(o.cli, { args, tried: '1' });
});

test('an agent gone without an answer: the CLI runs the command after reaping the name the request carried', { skip }, async () => {
  const o = await client(['run', '--', 'true'], (_req, conn) => { conn.destroy(); });
  const spec = JSON.parse(o.requests[0]!.stdin) as { name: string; argv: string[] };
  assert.match(spec.name, /^run-[0-9a-f]{8}$/, 'the client names the sandbox, so it can be reaped');
  assert.deepEqual(spec.argv, ['true']);
  assert.deepEqual(o.cli, { args: ['run', '--', 'true'], tried: '1', reap: spec.name });
  const garbage = await client(['run', '--', 'true'], (_req, conn) => { conn.end('HTTP/1.1 400 Bad Request\r\n\r\n'); });
  assert.equal(garbage.cli?.reap, (JSON.parse(garbage.requests[0]!.stdin) as { name: string }).name, 'not an agent\'s reply: reaped too');
});

test('exec asks for the sandbox by name; declined (no such sandbox), the CLI says so', { skip }, async () => {
  const o = await client(['exec', 'box-1', '--', 'true'], (_req, conn) => { conn.end(encodeReply({ status: STATUS.declined, exitCode: 0, stdout: '', stderr: 'no sandbox named "box-1"' })); });
  assert.deepEqual(o.requests.map((r) => ({ kind: r.kind, stdin: JSON.parse(r.stdin) as unknown })), [{ kind: 'exec', stdin: { name: 'box-1' } }]);
  assert.deepEqual(o.cli, { args: ['exec', 'box-1', '--', 'true'], tried: '1' });
  const target = await client(['exec', 'box-1', '--', 'true'], (_req, conn) => { conn.end(encodeReply({ status: STATUS.served, exitCode: 0, stdout: 'not a target', stderr: '' })); });
  assert.deepEqual(target.cli, { args: ['exec', 'box-1', '--', 'true'], tried: '1' }, 'a reply that names no target: the CLI runs it');
});

test('ls, inspect, create and rm go to the agent\'s CLI: the arguments after --root, the root, the client\'s namespaces; its answer is the call\'s', { skip }, async () => {
  const served = (_req: AgentRequest, conn: Socket): void => { conn.end(encodeReply({ status: STATUS.served, exitCode: 4, stdout: 'out\n', stderr: 'nsbox: err\n' })); };
  const o = await client(['--root', '/nsbt/r', '--json', 'create', 'a', 'b c'], served);
  assert.equal(o.code, 4);
  assert.equal(o.cli, undefined, 'served: no CLI');
  const [req] = o.requests;
  assert.equal(req!.kind, 'cli');
  assert.deepEqual(req!.stdin.split('\0'), ['--json', 'create', 'a', 'b c']);
  assert.equal(req!.env.NSBOX_ROOT, '/nsbt/r');
  const ino = (ns: string): number => statSync(`/proc/self/ns/${ns}`).ino;
  assert.equal(req!.env.NSBOX_CLIENT_NS, `mnt:${ino('mnt')} net:${ino('net')}`);
  for (const [env, why] of [[{ NSBOX_HOST: 'h1' }, 'NSBOX_HOST'], [{ NSBOX_TEST_PAUSE: 'x' }, 'a test hook'], [{ NSBOX_TRACE_STARTUP: '1' }, 'the startup trace']] as const) {
    const own = await client(['ls'], served, env);
    assert.deepEqual({ requests: own.requests, cli: own.cli }, { requests: [], cli: { args: ['ls'], tried: '1' } }, why);
  }
  const help = await client(['rm', '--help'], served);
  assert.deepEqual(help.requests, [], '--help is the CLI\'s');
  const declinedLs = await client(['inspect', 'a'], declined);
  assert.deepEqual(declinedLs.cli, { args: ['inspect', 'a'], tried: '1' });
});

test('the agent gone during a call: a look is run by the CLI, a create or rm is not repeated', { skip }, async () => {
  const gone = (_req: AgentRequest, conn: Socket): void => { conn.destroy(); };
  const ls = await client(['ls'], gone);
  assert.deepEqual(ls.cli, { args: ['ls'], tried: '1' });
  const create = await client(['create', 'a'], gone);
  assert.equal(create.cli, undefined, 'not run again by the CLI');
  assert.equal(create.code, 1);
});

test('the native client, the launcher and the agent agree on the commands the agent runs', () => {
  const c = readFileSync(join(packageRoot(), 'native/handoff-client.c'), 'utf8');
  const inC = /CLI_COMMANDS\[\] = \{([^}]*)\}/.exec(c)?.[1]?.match(/"([a-z]+)"/g)?.map((w) => w.slice(1, -1));
  assert.deepEqual(new Set(inC), CLI_COMMANDS);
  const launcher = readFileSync(join(packageRoot(), 'bin/nsbox'), 'utf8');
  const inLauncher = /case \$cmd in\s+([^)]*)\)/.exec(launcher)?.[1]?.split('|').map((w) => w.trim());
  assert.deepEqual(new Set(inLauncher), new Set([...CLI_COMMANDS, 'run', 'exec']));
});
