/**
 * Integration (root, throwaway host): more of issue 16's security promises (docs/reliability.md
 * "Security"). The agent's unix socket is root-only (0600, owned by root: a user without root
 * cannot connect, also when the socket's directory is open to all); etcd credentials never
 * reach the output or the state root; a symlink planted at ROOT/labs/LAB is never followed into
 * writing; the CNI plugin run without root answers a spec error saying it needs root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { NSBOX_BIN, rootForTest, waitForOutput, type NsboxRoot } from '../../helpers/cli.js';
import { networkName } from '../../helpers/networks.js';
import { labRootForTest } from '../../helpers/lab-root.js';
import { writeLab } from '../../helpers/lab.js';
import { randomName } from '../../helpers/names.js';

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

/** Every regular file under `dir`, with its content (none when a refused command never made it). */
function filesUnder(dir: string): { path: string; text: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => { const path = join(e.parentPath, e.name); return { path, text: readFileSync(path, 'latin1') }; });
}

test('etcd credentials never reach stdout, stderr or the state root: a bad key, a real key with an unreachable endpoint, by flag and by environment', async (t) => {
  const root = rootForTest(t);
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-etcd-creds-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // a key that is not a key, with a canary inside; a CA and a certificate just as bad
  const CANARY = 'SECRET-CANARY-7f3a9c';
  const badKey = join(dir, 'bad-key.pem');
  writeFileSync(badKey, `-----BEGIN PRIVATE KEY-----\n${CANARY}\n-----END PRIVATE KEY-----\n`, { mode: 0o600 });
  const badCert = join(dir, 'bad-cert.pem');
  writeFileSync(badCert, `-----BEGIN CERTIFICATE-----\nCERT-${CANARY}\n-----END CERTIFICATE-----\n`);
  // a real key and self-signed certificate: no line of the key's body may show
  const realKey = join(dir, 'real-key.pem');
  const realCert = join(dir, 'real-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', realKey, '-out', realCert, '-days', '1', '-subj', '/CN=nsbt'], { stdio: 'ignore' });
  const keyLines = readFileSync(realKey, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
  const secrets = [CANARY, ...keyLines];
  const leaks = (text: string): string[] => secrets.filter((s) => text.includes(s));

  const tries: { args: string[]; env: NodeJS.ProcessEnv; json: string[] }[] = [
    { args: ['--etcd', 'https://127.0.0.1:1', '--etcd-key', badKey, '--etcd-cert', badCert, '--etcd-ca', badCert], env: {}, json: [] },
    { args: ['--etcd', 'https://127.0.0.1:1', '--etcd-key', badKey, '--etcd-cert', realCert], env: {}, json: ['--json'] },
    { args: [], env: { NSBOX_ETCD: 'https://127.0.0.1:1', NSBOX_ETCD_KEY: badKey, NSBOX_ETCD_CERT: badCert, NSBOX_ETCD_CA: badCert }, json: ['--json'] },
    // a valid key: the TLS handshake is tried, the endpoint does not answer (one call's deadline)
    { args: ['--etcd', 'https://127.0.0.1:1', '--etcd-key', realKey, '--etcd-cert', realCert, '--etcd-ca', realCert], env: {}, json: [] },
  ];
  for (const { args, env, json } of tries) {
    {
      const net = networkName();
      const child = root.start([...json, 'network', 'create', net, '--driver', 'overlay', '--subnet', '10.99.0.0/16', ...args], env);
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      const [code] = await once(child, 'close') as [number | null];
      const what = `${JSON.stringify({ args, env, json })}: ${stderr}`;
      assert.notEqual(code, 0, what);
      assert.ok(/etcd/i.test(stderr), `the error names etcd: ${what}`);
      if (args.includes(realKey)) assert.match(stderr, /127\.0\.0\.1:1/, what);
      else assert.ok(code === 2 && /TLS files are not a valid PEM/.test(stderr), `a usage error naming the TLS files: ${what}`);
      assert.doesNotMatch(stderr, /\n\s+at /, `no stack trace: ${what}`);
      assert.deepEqual(leaks(stdout + stderr), [], `no credential in the output: ${what}`);
      for (const f of filesUnder(root.root)) assert.deepEqual(leaks(f.text), [], `no credential in ${f.path}`);
    }
  }
});

test('a symlink planted at ROOT/labs/LAB is never followed: lab up refuses it, and the directory it points to is untouched', async (t) => {
  const r = labRootForTest(t);
  await r.json('ls');
  const outside = mkdtempSync(join(tmpdir(), 'nsbt-canary-'));
  t.after(() => rmSync(outside, { recursive: true, force: true }));
  chmodSync(outside, 0o755);
  writeFileSync(join(outside, 'canary'), 'canary\n', { mode: 0o644 });
  const snapshot = (): unknown => ({ mode: statSync(outside).mode, files: readdirSync(outside).sort(), text: readFileSync(join(outside, 'canary'), 'utf8'), fileMode: statSync(join(outside, 'canary')).mode });
  const before = snapshot();
  const lab = randomName('lab');
  mkdirSync(join(r.root, 'labs'), { recursive: true, mode: 0o700 });
  const planted = join(r.root, 'labs', lab);
  symlinkSync(outside, planted);
  // a process makes up start the lab's supervisor, which keeps its files in ROOT/labs/LAB
  const file = writeLab(t, `lab: ${lab}\nnodes:\n  a:\n    processes:\n      - name: s\n        cmd: [sleep, "1000"]\n`);
  const err = await r.fails(4, 'lab', 'up', '-f', file);
  assert.equal(err.code, 'NSBOX_ERR_CONFLICT', err.error);
  assert.match(err.error, /symlink|not a directory/);
  assert.ok(err.error.includes(planted), err.error);
  assert.deepEqual(snapshot(), before, 'the directory outside is untouched');
  assert.ok(lstatSync(planted).isSymbolicLink(), 'the planted link is left for its owner to look at');
});

test('the CNI plugin run without root answers a spec error object saying it needs root, not a bare EPERM', async (t) => {
  const CNI_BIN = join(dirname(NSBOX_BIN), 'nsbox-cni.js');
  const root = mkdtempSync(join(tmpdir(), 'nsbt-nobody-cni-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  execFileSync('chown', ['65534:65534', root]);
  const netns = `/run/netns/${randomName('nsbt-cni-')}`;
  execFileSync('ip', ['netns', 'add', netns.slice('/run/netns/'.length)]);
  t.after(() => { spawnSync('ip', ['netns', 'del', netns.slice('/run/netns/'.length)]); });
  const config = { cniVersion: '1.0.0', name: networkName(), type: 'nsbox-cni', bridge: 'brnsbtnobody', isGateway: true, ipam: { type: 'nsbox', subnet: '10.98.0.0/24' } };
  const before = readdirSync('/run/netns').sort();
  // its own root (uid 65534's: the privileged step refuses), and root's (0700: the state refuses)
  for (const nsboxRoot of [root, '/var/lib/nsbox']) {
    // (DEL of nothing recorded succeeds, as the spec wants: ADD is the call that needs root)
    for (const command of ['ADD']) {
      const res = spawnSync(NOBODY[0]!, [...NOBODY.slice(1), process.execPath, CNI_BIN], {
        input: JSON.stringify(config), encoding: 'utf8',
        env: { PATH: process.env.PATH, NSBOX_ROOT: nsboxRoot, CNI_COMMAND: command, CNI_CONTAINERID: 'ctr-nobody', CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' },
      });
      const what = `${command} on ${nsboxRoot}: ${res.stdout}${res.stderr}`;
      assert.equal(res.status, 1, what);
      assert.doesNotMatch(res.stderr, /\n\s+at /, `no stack trace: ${what}`);
      const answer = JSON.parse(res.stdout) as { cniVersion: string; code: number; msg: string; details?: string };
      assert.equal(answer.cniVersion, '1.0.0', what);
      assert.ok(Number.isInteger(answer.code) && answer.code !== 0, what);
      assert.match(`${answer.msg} ${answer.details ?? ''}`, /needs root/, what);
    }
  }
  assert.deepEqual(readdirSync('/run/netns').sort(), [...before], 'nothing made in /run/netns');
});
