/**
 * Integration (root, throwaway host, no network): the package as a user of the registry gets
 * it. `npm pack` makes the tarball (its `prepare` builds dist/); the tarball holds the bundles,
 * the type declarations, the native sources, binding.gyp and bin, and no tests or compiled
 * tests. `npm i --offline` installs it into an empty folder from the npm cache that
 * scripts/setup.sh primed, building the addon and the nsbox-exec helper (and better-sqlite3,
 * whose prebuilt download fails without a network) from source. There, `npx nsbox run -- ip
 * -br addr` (through the helper) prints the
 * addresses of a fresh sandbox (lo and eth0 with 10.88.x.y/16 on nsbox0), an ES module doing
 * `import { Sandbox, generateKey } from 'nsbox'` creates and destroys a sandbox, and a
 * TypeScript file importing 'nsbox' type-checks against the shipped declarations, strictly and
 * with the declarations themselves checked too (no skipLibCheck: the public types reach
 * better-sqlite3's, which the package depends on).
 * The install compiles SQLite: this file takes a minute or two.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/package-root.js';
import { ipTry } from '../../helpers/iproute.js';
import { hostLinkNames } from '../../helpers/host-links.js';
import { mountsUnder } from '../../helpers/leaks.js';

const root = packageRoot();
let work = '';
let app = '';
let tarball = '';
let installed: SpawnSyncReturns<string> | undefined;

function run(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 15 * 60_000, maxBuffer: 64 << 20 });
}

const output = (res: SpawnSyncReturns<string>): string => `exit ${res.status ?? res.signal}\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`;

function requireInstalled(): void {
  assert.ok(installed !== undefined && installed.status === 0, 'the tarball did not install (see the install test)');
}

before(() => {
  work = mkdtempSync('/run/nsbt-pack-');
  app = join(work, 'app');
  mkdirSync(app);
});

after(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

test('npm pack: the bundles, declarations, native sources, binding.gyp and bin; no tests', () => {
  const res = run('npm', ['pack', '--json', '--pack-destination', work], root);
  assert.equal(res.status, 0, output(res));
  // With --json, npm prints the lifecycle scripts' banners on stderr: stdout is the report.
  let report: { filename: string; files: { path: string }[] } | undefined;
  try {
    [report] = JSON.parse(res.stdout) as (typeof report)[];
  } catch {
    assert.fail(`npm pack --json printed no JSON report:\n${output(res)}`);
  }
  assert.ok(report !== undefined, output(res));
  tarball = join(work, report.filename);
  assert.ok(existsSync(tarball), `${tarball} written`);
  const packedFiles = report.files.map((f) => f.path).sort();

  const expected = [
    'package.json', 'README.md', 'binding.gyp', 'bin/nsbox', 'bin/nsbox.js', 'bin/nsbox.cjs',
    'dist/nsbox.mjs', 'dist/nsbox.mjs.map', 'dist/cli.cjs', 'dist/cli.cjs.map', 'dist/cli.hash.json', 'dist/cli-core.cjs', 'dist/cli-core.cjs.map', 'dist/cli-run.cjs', 'dist/cli-run.cjs.map', 'dist/src/index.d.ts',
    'bin/nsbox-cni.js', 'dist/cni.mjs', 'dist/cni.mjs.map',
    'bin/nsbox-cni-conformance.js', 'dist/cni-conformance.mjs', 'dist/cni-conformance.mjs.map',
    ...readdirSync(join(root, 'native')).map((f) => `native/${f}`),
  ];
  for (const f of expected) assert.ok(packedFiles.includes(f), `the tarball holds ${f}`);
  const unexpected = packedFiles.filter((f) => !expected.includes(f) && !/^dist\/src\/.+\.d\.ts$/.test(f));
  assert.deepEqual(unexpected, [], 'nothing else: no tests, no dist/test, no compiled .js besides the bundles, no build/');
  assert.ok(packedFiles.filter((f) => f.endsWith('.d.ts')).length > 10, 'the declarations of the whole public API');
});

test('npm i --offline installs the tarball into an empty folder, building the addon from source', () => {
  assert.ok(tarball !== '', 'packed (see the pack test)');
  installed = run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], app);
  const hint = /ENOTCACHED/.test(installed.stderr) ? '\n(the npm cache lacks what the install resolves: run `sh scripts/setup.sh` with a network, which primes it)' : '';
  assert.equal(installed.status, 0, `${output(installed)}${hint}`);
  assert.ok(existsSync(join(app, 'node_modules/nsbox/build/Release/nsbox_native.node')), 'nsbox\'s install script built the addon');
  assert.ok(existsSync(join(app, 'node_modules/nsbox/build/Release/nsbox-exec')), 'and the nsbox-exec helper `exec` and `run` start');
  assert.ok(existsSync(join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node')), 'better-sqlite3 built');
  assert.ok(!existsSync(join(app, 'node_modules/nsbox/dist/test')), 'no compiled tests installed');
});

test('the installed nsbox-cni answers VERSION as the spec says (what a runtime asks first)', () => {
  requireInstalled();
  const res = spawnSync(join(app, 'node_modules/.bin/nsbox-cni'), [], {
    cwd: app, encoding: 'utf8', input: '{"cniVersion":"1.0.0"}', env: { ...process.env, CNI_COMMAND: 'VERSION' }, timeout: 60_000,
  });
  assert.equal(res.status, 0, output(res));
  const answer = JSON.parse(res.stdout) as { cniVersion: string; supportedVersions: string[] };
  assert.equal(answer.cniVersion, '1.0.0', 'the input\'s version echoed');
  assert.ok(answer.supportedVersions.includes('1.1.0') && answer.supportedVersions.includes('0.1.0'), res.stdout);
});

test('npx nsbox run -- ip -br addr prints the addresses of a fresh sandbox, then nothing of it is left', () => {
  requireInstalled();
  const state = join(work, 'state');
  const res = run('npx', ['--offline', 'nsbox', 'run', '--', 'ip', '-br', 'addr'], app, { NSBOX_ROOT: state });
  // The default network the run made goes, so later files find the host as it was.
  const rm = run('npx', ['--offline', 'nsbox', 'network', 'rm', 'nsbox0'], app, { NSBOX_ROOT: state });
  const bridgeLeft = hostLinkNames().includes('nsbox0');
  if (bridgeLeft) ipTry(undefined, 'link', 'del', 'nsbox0');

  assert.equal(res.status, 0, output(res));
  // `ip -br addr`: NAME[@PEER] STATE ADDRESS…, one line per interface.
  const rows = res.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
  assert.deepEqual(rows.map((r) => r[0]?.replace(/@.*/, '')).sort(), ['eth0', 'lo'], `only the sandbox's interfaces:\n${res.stdout}`);
  const eth0 = rows.find((r) => r[0]?.startsWith('eth0'))!;
  assert.ok(eth0.slice(2).some((a) => /^10\.88\.\d+\.\d+\/16$/.test(a)), `eth0 has an address of nsbox0 (10.88.0.0/16):\n${res.stdout}`);
  assert.equal(rm.status, 0, output(rm));
  assert.ok(!bridgeLeft, 'nsbox network rm nsbox0 removed the bridge');
  assert.deepEqual(mountsUnder(state), [], 'no netns mount left');
});

test("an ES module doing import { Sandbox, generateKey } from 'nsbox' creates and destroys a sandbox", () => {
  requireInstalled();
  const base = join(work, 'netns-base');
  writeFileSync(join(app, 'sandbox.mjs'), `
import { existsSync } from 'node:fs';
import { Sandbox, generateKey, setBasePath } from 'nsbox';
setBasePath(process.argv[2]);
const sb = await Sandbox.create(generateKey('packtest0123456789'));
const made = existsSync(sb.key);
await sb.destroy();
console.log(JSON.stringify({ key: sb.key, made, gone: !existsSync(sb.key) }));
`);
  const res = run(process.execPath, ['sandbox.mjs', base], app);
  assert.equal(res.status, 0, output(res));
  assert.deepEqual(JSON.parse(res.stdout), { key: join(base, 'netns', 'packtest0123'), made: true, gone: true });
  assert.deepEqual(mountsUnder(base), [], 'no netns mount left');
});

test("TypeScript importing 'nsbox' type-checks against the shipped declarations", () => {
  requireInstalled();
  writeFileSync(join(app, 'use.mts'), `
import { Sandbox, generateKey } from 'nsbox';
const sb: Sandbox = await Sandbox.create(generateKey('typed'));
const key: string = sb.key;
// @ts-expect-error generateKey takes a string: the declarations are real types, not any
generateKey(42);
export { key };
`);
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true,
      types: ['node'], typeRoots: [join(root, 'node_modules/@types')],
      skipLibCheck: false,
    },
    files: ['use.mts'],
  }));
  const res = run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', app], app);
  assert.equal(res.status, 0, output(res));
});
