/**
 * Integration (no root needed, but Debian's chromium and graphviz, scripts/setup.sh; run in
 * the throwaway host with the other integration tests, where there is no network at all):
 * `nsbox lab graph` end to end, as child processes of bin/nsbox.js.
 *
 * - The HTML page of examples/labs/core.yaml and star100.yaml, written with `-o`, loaded from
 *   a file:// URL in a real headless Chromium (a fresh profile, `--dump-dom` after the page's
 *   script ran): every node, network, interface, link and fault of the file is an element with
 *   its data-graph-id, and the page's own check (html-assets.ts: each one has a size and lies
 *   inside the window) says ok, at a laptop's window and at a small one. The file names no URL
 *   and nothing to load (src/href), so opening it requests nothing.
 * - The DOT output of every example, and of a lab with hostile names, through Graphviz's
 *   `dot -Tsvg` as the oracle: accepted without a warning, every id in the SVG.
 * - The command's errors: neither or both of LAB and -f (2), a bad file (2, its positioned
 *   problem), a lab that is not up (3); and a lab by name from its record, its active fault
 *   marked.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../../src/package-root.js';
import { parseLab } from '../../../src/lab/index.js';
import { Manager } from '../../../src/managed/index.js';
import { rootForTest } from '../../helpers/cli.js';
import { skipIfMissing } from '../../helpers/privileges.js';

const EXAMPLES = join(packageRoot(), 'examples/labs');
const CHROMIUM = '/usr/bin/chromium';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-graph-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function missing(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.error !== undefined ? r.error.message : r.status !== 0 ? `${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}` : undefined;
}

/** The DOM Chromium has after the page's script ran, with a fresh profile of its own. */
function dumpDom(t: TestContext, file: string, width: number, height: number): string {
  const profile = tempDir(t);
  const r = spawnSync(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, `--window-size=${width},${height}`,
    '--hide-scrollbars', '--virtual-time-budget=1000', '--dump-dom', pathToFileURL(file).href,
  ], { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, HOME: profile } });
  assert.equal(r.status, 0, `chromium exited ${r.status} ${r.signal ?? ''}: ${r.stderr}`);
  return r.stdout;
}

/** What the file says is there, counted from the validated lab (not from the graph model). */
function expected(file: string): { ids: string[]; counts: Record<string, number> } {
  const spec = parseLab(readFileSync(file, 'utf8'), file);
  const ifaces = spec.nodes.flatMap((n) => n.interfaces.map((i) => `iface:${n.name}/${i.name}`));
  const ids = [...spec.nodes.map((n) => `node:${n.name}`), ...spec.networks.map((w) => `network:${w.name}`), ...ifaces,
    ...spec.links.map((l) => `link:${l.name}`), ...spec.faults.map((f) => `fault:${f.name}`)];
  const counts = { node: spec.nodes.length, network: spec.networks.length, interface: ifaces.length, link: spec.links.length, fault: spec.faults.length };
  return { ids, counts: Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0)) };
}

for (const example of ['core.yaml', 'star100.yaml']) {
  void test(`html: ${example} drawn in headless Chromium, every node, network, interface, link and fault present, sized and in the window`, async (t) => {
    if (skipIfMissing(t, 'chromium', missing(CHROMIUM, ['--version']))) return;
    const root = rootForTest(t);
    const dir = tempDir(t);
    const source = join(EXAMPLES, example);
    const page = join(dir, 'graph.html');
    const out = await root.ok('lab', 'graph', '-f', source, '--format', 'html', '-o', page);
    assert.match(out, /html graph \(\d+ nodes, \d+ networks, \d+ links\) written to /);
    const html = readFileSync(page, 'utf8');
    assert.doesNotMatch(html, /https?:\/\//i, 'no URL in the page');
    assert.doesNotMatch(html, /\s(?:src|href|xlink:href|srcset|action|poster)\s*=/i, 'nothing for the page to load');
    const want = expected(source);
    for (const [width, height] of [[1440, 900], [800, 600]] as const) {
      const dom = dumpDom(t, page, width, height);
      const verdict = /<output id="verdict">([^<]*)<\/output>/.exec(dom);
      assert.ok(verdict !== null, `the page wrote no verdict (${width}x${height})`);
      const v = JSON.parse(verdict[1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as { ok: boolean; counts: Record<string, number>; problems: string[]; window: number[] };
      assert.deepEqual(v.problems, [], `${width}x${height}`);
      assert.equal(v.ok, true);
      assert.match(dom, /<body data-verdict="ok"/);
      assert.deepEqual(v.counts, want.counts, `${width}x${height}: elements per kind`);
      const drawn = new Set([...dom.slice(0, dom.indexOf('<script')).matchAll(/data-graph-id="([^"]*)"/g)].map((m) => m[1]!));
      for (const id of want.ids) assert.ok(drawn.has(id), `${id} drawn`);
      assert.ok(v.window[0]! > 0 && v.window[0]! <= width, 'the check ran in the window asked for');
    }
  });
}

void test('dot: every example and a lab with hostile names through Graphviz (dot -Tsvg): accepted, no warning, every id in the SVG', async (t) => {
  if (skipIfMissing(t, 'graphviz', missing('dot', ['-V']))) return;
  const root = rootForTest(t);
  const dir = tempDir(t);
  const hostile = join(dir, 'hostile.yaml');
  writeFileSync(hostile, `lab: odd_lab-1
networks: { a-b: { subnet: 10.1.0.0/24 }, a_b: {} }
nodes:
  a-b: { interfaces: { 'e"<|\\x': { network: a-b, address: 10.1.0.2/24 } } }
  a_b: { interfaces: { 'e#&;]>': { network: a_b } } }
  end: {}
links:
  - { name: x-y, a: { node: a_b, iface: 'q"' }, b: { node: end, iface: 'q\\', address: 10.9.0.2/30 }, impair: { both: { loss: 5%, rate: 1mbit } } }
faults: { f-1: { partition: [[a-b], [a_b, end]] }, f_2: { link-down: x-y } }
`);
  const files = [...readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).map((f) => join(EXAMPLES, f)), hostile];
  for (const file of files) {
    const text = await root.ok('lab', 'graph', '-f', file, '--format', 'dot');
    const r = spawnSync('dot', ['-Tsvg'], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 0, `${file}: dot exited ${r.status}: ${r.stderr}`);
    assert.equal(r.stderr, '', `${file}: no warning`);
    assert.match(r.stdout, /<svg /);
    if (file === hostile) {
      assert.ok(r.stdout.includes('e&quot;&lt;|\\x 10.1.0.2/24'), 'the hostile interface name as written');
      continue;
    }
    // Graphviz writes '-' as &#45; in SVG attributes.
    const ids = new Set([...r.stdout.matchAll(/ id="([^"]*)"/g)].map((m) => m[1]!.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))));
    for (const id of expected(file).ids) assert.ok(ids.has(id), `${file}: ${id} in the SVG`);
  }
});

void test('the command: LAB or -f (exactly one), a bad file, a lab that is not up, a lab by name with its active fault', async (t) => {
  const root = rootForTest(t);
  const dir = tempDir(t);
  const core = join(EXAMPLES, 'core.yaml');
  let r = await root.run('lab', 'graph');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /give a lab file with -f FILE, or the name of a lab that is up/);
  r = await root.run('lab', 'graph', 'demo', '-f', core);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not both/);
  r = await root.run('lab', 'graph', '-f', core, '--format', 'svg');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Allowed choices are mermaid, dot, json, html/);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'lab: x\nnodes:\n  a: { interfaces: { eth0: { network: nope } } }\n');
  r = await root.run('lab', 'graph', '-f', bad);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.yaml:3:\d+: nodes\.a\.interfaces\.eth0\.network: /);
  r = await root.run('lab', 'graph', 'demo');
  assert.equal(r.code, 3);
  assert.match(r.stderr, /no lab "demo" in the state .*lab graph -f FILE/);

  // A lab by name: the spec its `up` stores, and its active faults (written here as `up` and
  // `lab fault apply` record them).
  const manager = Manager.open({ root: root.root });
  try {
    manager.labs.beginApply('demo', parseLab(readFileSync(core, 'utf8'), core), 'digest', core);
    manager.labs.putFault('demo', 'split', {}, undefined);
  } finally {
    manager.close();
  }
  const byName = await root.ok('lab', 'graph', 'demo', '--format', 'json');
  const fromFile = await root.ok('lab', 'graph', '-f', core, '--format', 'json');
  const g = JSON.parse(byName) as { live: boolean; faults: { name: string; active: boolean | null }[]; nodes: unknown[]; edges: unknown[] };
  const f = JSON.parse(fromFile) as typeof g;
  assert.equal(g.live, true);
  assert.deepEqual(g.faults.map((x) => [x.name, x.active]), [['split', true]]);
  assert.deepEqual([g.nodes, g.edges], [f.nodes, f.edges], 'the stored spec draws as the file does');
  assert.match(await root.ok('lab', 'graph', 'demo'), /class N_n1,N_n2,N_r1,F_split active/);
  const again = await root.ok('lab', 'graph', '-f', core, '--format', 'html');
  assert.equal(await root.ok('lab', 'graph', '-f', core, '--format', 'html'), again, 'same file, same bytes');
  const written = JSON.parse(await root.ok('--json', 'lab', 'graph', '-f', core, '--format', 'dot', '-o', join(dir, 'g.dot'))) as Record<string, unknown>;
  assert.deepEqual(written, { lab: 'demo', format: 'dot', output: join(dir, 'g.dot'), bytes: Buffer.byteLength(readFileSync(join(dir, 'g.dot'))), nodes: 3, networks: 1, links: 1, faults: 1 });
});
