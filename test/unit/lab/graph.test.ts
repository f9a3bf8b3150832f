/**
 * Unit: `nsbox lab graph`'s model and renderers (src/lab/graph/). The core example's graph
 * (nodes with addresses, the network as a hub, interfaces and the link with both ends and its
 * impairments per direction, the fault); the same lab gives the same bytes in every format
 * whatever the order of the file's maps; Mermaid checked by structure (one declaration per
 * id, edges between declared ids, quoted labels with nothing raw that ends them) and its ids
 * distinct for names that differ only in `-` and `_`; DOT and HTML escaping of hostile
 * interface names; the HTML page self-contained (no URL, no src/href, no external CSS); a lab
 * by name from its stored spec with its active faults (a real LabRecords on a temporary
 * database). Graphviz and a real browser check the DOT and the page in
 * test/integration/lab/graph.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { packageRoot } from '../../../src/package-root.js';
import { GRAPH_FORMATS, buildGraph, labFromObject, parseLab, renderGraph, storedGraph, type LabGraph } from '../../../src/lab/index.js';
import { mermaidId } from '../../../src/lab/graph/mermaid.js';
import { naturalCompare } from '../../../src/lab/graph/text.js';
import { NsboxError } from '../../../src/errors.js';
import { LabRecords } from '../../../src/store/index.js';
import { openTestDb, tempStoreDir } from '../../helpers/store.js';

const example = (name: string): string => readFileSync(join(packageRoot(), 'examples/labs', name), 'utf8');
const CORE = example('core.yaml');

void test('the core example: nodes with addresses, the network, interfaces, the link with both ends and its impairments, the fault', () => {
  const g = buildGraph(parseLab(CORE, 'core.yaml'));
  assert.equal(g.format, 'nsbox-lab-graph');
  assert.equal(g.version, 1);
  assert.equal(g.live, false);
  assert.deepEqual(g.nodes.map((n) => [n.id, n.sandbox, n.addresses.map((a) => `${a.iface} ${a.address}`)]), [
    ['node:n1', 'demo.n1', ['eth0 10.10.0.11/24']],
    ['node:n2', 'demo.n2', ['eth1 10.30.0.2/30']],
    ['node:r1', 'demo.r1', ['eth0 10.10.0.1/24', 'eth1 10.30.0.1/30']],
  ]);
  assert.deepEqual(g.networks.map((w) => [w.id, w.driver, w.subnets]), [['network:lan', 'bridge', ['10.10.0.0/24']]]);
  assert.deepEqual(g.edges.map((e) => [e.id, e.kind, e.source, e.target, e.label]), [
    ['iface:n1/eth0', 'interface', 'node:n1', 'network:lan', 'eth0 10.10.0.11/24'],
    ['iface:r1/eth0', 'interface', 'node:r1', 'network:lan', 'eth0 10.10.0.1/24'],
    ['link:wan', 'link', 'node:r1', 'node:n2', 'eth1 10.30.0.1/30 — eth1 10.30.0.2/30'],
  ]);
  const wan = g.edges[2]!;
  assert.ok(wan.kind === 'link');
  assert.deepEqual(wan.impairLines, ['a->b 10mbit 5% 20ms', 'b->a 10mbit']);
  assert.deepEqual(wan.impair['a->b'], { rate: 10_000_000, loss: 0.05, delay: 20, jitter: null, text: '10mbit 5% 20ms' });
  assert.deepEqual(g.faults, [{ id: 'fault:split', name: 'split', active: null, defined: true, summary: 'partition n1 | r1, n2', touches: ['node:n1', 'node:n2', 'node:r1'] }]);
});

void test('every kind of fault summarised; jitter, seconds and fractions of a unit in labels; IPAM and address-less ends', () => {
  const g = buildGraph(labFromObject({
    lab: 'x',
    networks: { net: {} },
    nodes: { a: { interfaces: { eth0: { network: 'net' } }, processes: [{ name: 'srv', cmd: 'sleep 1' }] }, b: {} },
    links: [{ name: 'l', a: { node: 'a', iface: 'p' }, b: { node: 'b', iface: 'p' }, impair: { both: { rate: '1.5gbit', delay: '1s', jitter: '500us' } } }],
    faults: {
      cut: { 'link-down': 'l', side: 'a' },
      oneway: { partition: [['a'], ['b']], oneway: true },
      slow: { impair: { l: { 'a->b': { loss: 0.25 } } } },
      stop: { signal: { node: 'a', process: 'srv', signal: 'STOP' } },
    },
  }));
  assert.deepEqual(g.nodes[0]!.addresses, [{ iface: 'eth0', on: 'network', address: null }, { iface: 'p', on: 'link', address: null }]);
  assert.deepEqual(g.nodes[0]!.processes, ['srv']);
  assert.equal(g.edges[0]!.label, 'eth0 IPAM');
  assert.deepEqual(g.networks[0]!.subnets, []);
  const link = g.edges[1]!;
  assert.ok(link.kind === 'link');
  assert.deepEqual(link.impairLines, ['a->b 1.5gbit 1s ±500us', 'b->a 1.5gbit 1s ±500us']);
  assert.equal(link.label, 'p — p');
  assert.deepEqual(g.faults.map((f) => [f.name, f.summary, f.touches]), [
    ['cut', 'link-down l (end a)', ['link:l']],
    ['oneway', 'one-way partition a -> b', ['node:a', 'node:b']],
    ['slow', 'impair l: a->b 25%', ['link:l']],
    ['stop', 'signal STOP to a/srv', ['node:a']],
  ]);
});

/** The core example with every map's keys reversed (and the links' order). */
function reversed(text: string): string {
  const rev = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rev);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, rev(x)]));
    return v;
  };
  return stringify(rev(parse(text)));
}

void test('same lab, same bytes: every format, twice, and with the file\'s maps in another order', () => {
  for (const name of ['core.yaml', 'wan.yaml', 'raft.yaml', 'star100.yaml']) {
    const text = example(name);
    const [one, two, other] = [parseLab(text, name), parseLab(text, name), parseLab(reversed(text), name)];
    for (const format of GRAPH_FORMATS) {
      const a = renderGraph(buildGraph(one), format);
      assert.equal(renderGraph(buildGraph(two), format), a, `${name} ${format}`);
      assert.equal(renderGraph(buildGraph(other), format), a, `${name} ${format}, maps reversed`);
    }
  }
});

void test('natural order: leaf2 before leaf10, digits as numbers, a total order', () => {
  assert.deepEqual(['leaf10', 'leaf2', 'leaf1', 'leaf01', 'a', 'leaf'].sort(naturalCompare), ['a', 'leaf', 'leaf01', 'leaf1', 'leaf2', 'leaf10']);
  const g = buildGraph(parseLab(example('star100.yaml'), 'star100.yaml'));
  assert.deepEqual(g.nodes.slice(0, 4).map((n) => n.name), ['hub', 'leaf1', 'leaf2', 'leaf3']);
});

/** Names that differ only in `-` and `_`, and interface names with characters each format must escape. */
const HOSTILE = {
  lab: 'odd_lab-1',
  networks: { 'a-b': { subnet: '10.1.0.0/24' }, a_b: { subnet: '10.2.0.0/24' } },
  nodes: {
    'a-b': { interfaces: { 'e"<|\\x': { network: 'a-b', address: '10.1.0.2/24' } } },
    a_b: { interfaces: { 'e#&;]>': { network: 'a_b', address: '10.2.0.2/24' } } },
    a_2d_b: { interfaces: { "e'}{": { network: 'a-b', address: '10.1.0.3/24' } } },
    end: {},
  },
  links: [{ name: 'x-y', a: { node: 'a_2d_b', iface: 'q"', address: '10.9.0.1/30' }, b: { node: 'end', iface: 'q\\', address: '10.9.0.2/30' }, impair: { 'a->b': { loss: '5%' } } }],
  faults: { 'f-1': { partition: [['a-b'], ['a_b']] } },
};

void test('mermaid: a flowchart whose every vertex is declared once, edges between declared ids, labels quoted and escaped', () => {
  const g = buildGraph(labFromObject(HOSTILE));
  const text = renderGraph(g, 'mermaid');
  const lines = text.trimEnd().split('\n');
  assert.match(lines[0]!, /^%% /);
  assert.equal(lines[1], 'flowchart LR');
  const declared = new Map<string, string>();
  const edges: [string, string][] = [];
  for (const line of lines.slice(2)) {
    const decl = /^ {2,4}([A-Za-z][A-Za-z0-9_]*)(\("|\{\{"|\[")([^"]*)("\)|"\}\}|"\])$/.exec(line);
    const edge = /^ {2}([A-Za-z][A-Za-z0-9_]*) ---\|"([^"]*)"\| ([A-Za-z][A-Za-z0-9_]*)$/.exec(line);
    if (decl !== null) {
      assert.ok(!declared.has(decl[1]!), `${decl[1]} declared twice`);
      declared.set(decl[1]!, decl[3]!);
    } else if (edge !== null) {
      edges.push([edge[1]!, edge[3]!]);
      assert.doesNotMatch(edge[2]!.replaceAll('<br/>', ''), /[|"<>\\]/, 'nothing raw in an edge label');
    } else {
      assert.match(line, /^ {2}(subgraph legend \["faults"\]|end|classDef \w+ [^"]+|class [A-Za-z0-9_,]+ \w+|linkStyle [0-9,]+ .+)$/, `unexpected line: ${line}`);
    }
  }
  const vertexIds = [...g.nodes, ...g.networks, ...g.faults].map((v) => mermaidId(v.id));
  assert.equal(new Set(vertexIds).size, vertexIds.length, 'distinct names, distinct ids');
  assert.deepEqual([...declared.keys()].sort(), [...vertexIds].sort());
  assert.ok(!vertexIds.includes('end'), 'a node named end is not the keyword');
  assert.equal(edges.length, g.edges.length);
  for (const [a, b] of edges) assert.ok(declared.has(a) && declared.has(b), `${a} --- ${b}`);
  assert.equal(mermaidId('node:a-b'), 'N_a_2d_b');
  assert.equal(mermaidId('node:a_2d_b'), 'N_a_5f_2d_5f_b');
  assert.match(text, /e#34;#60;#124;#92;x 10\.1\.0\.2\/24/, 'the interface name e"<|\\x as entity codes');
});

void test('dot: ids and labels quoted with \\ and " escaped, one statement per vertex and edge', () => {
  const g = buildGraph(labFromObject(HOSTILE));
  const text = renderGraph(g, 'dot');
  assert.match(text, /^\/\/ .*\ngraph "odd_lab-1" \{\n/);
  assert.ok(text.endsWith('}\n'));
  assert.ok(text.includes('label="e\\"<|\\\\x 10.1.0.2/24"'), 'e"<|\\x escaped');
  assert.ok(text.includes('taillabel="q\\" 10.9.0.1/30", headlabel="q\\\\ 10.9.0.2/30"'));
  for (const v of [...g.nodes, ...g.networks, ...g.faults]) assert.equal(text.split(`\n  ${v.id.startsWith('fault:') ? '  ' : ''}"${v.id}" [`).length, 2, v.id);
  for (const e of g.edges) assert.ok(text.includes(`"${e.source}" -- "${e.target}" [id="${e.id.replace(/[\\"]/g, (c) => `\\${c}`)}"`), e.id);
  // Every quoted string ends where it should: an even number of unescaped quotes per line.
  for (const line of text.split('\n')) assert.equal((line.replace(/\\./g, '').match(/"/g) ?? []).length % 2, 0, line);
});

void test('json: the model as documented, parsed back equal', () => {
  const g = buildGraph(parseLab(CORE, 'core.yaml'));
  const back = JSON.parse(renderGraph(g, 'json')) as LabGraph;
  assert.deepEqual(back, g);
  assert.deepEqual(Object.keys(back), ['format', 'version', 'lab', 'live', 'nodes', 'networks', 'edges', 'faults']);
});

void test('html: one self-contained page, every vertex, edge and fault an element with its data-graph-id, names escaped', () => {
  for (const lab of [labFromObject(HOSTILE), parseLab(example('star100.yaml'), 'star100.yaml')]) {
    const g = buildGraph(lab);
    const html = renderGraph(g, 'html');
    assert.doesNotMatch(html, /https?:\/\//, 'no URL');
    assert.doesNotMatch(html, /\s(src|href|xlink:href)\s*=/i, 'nothing to load');
    assert.doesNotMatch(html, /<link\b|@import|url\(|<iframe|<img|fetch\(|XMLHttpRequest|import\(/i, 'no external style, frame, image or request');
    assert.equal((html.match(/<script\b/g) ?? []).length, 2, 'the data and the inline script');
    const body = html.slice(0, html.indexOf('<script'));
    const ids = [...body.matchAll(/data-graph-id="([^"]*)"/g)].map((m) => m[1]!.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))));
    assert.deepEqual([...ids].sort(), [...g.nodes, ...g.networks, ...g.edges, ...g.faults].map((x) => x.id).sort());
    const labels = [...body.matchAll(/data-label-for="([^"]*)"/g)];
    assert.equal(labels.length, g.edges.length);
    const data = /<script type="application\/json" id="graph-data">([^<]*)<\/script>/.exec(html);
    assert.ok(data !== null, 'the graph JSON has no < in it');
    assert.deepEqual(JSON.parse(data[1]!), JSON.parse(JSON.stringify(g)));
  }
  const html = renderGraph(buildGraph(labFromObject(HOSTILE)), 'html');
  assert.ok(html.includes('e&#34;&#60;|\\x 10.1.0.2/24'), 'the interface name escaped in the page');
  assert.ok(!html.includes('e"<|'));
});

void test('a lab by name: its stored spec, with its active faults (and ad-hoc ones) marked; no record or an unreadable one is not-found', (t) => {
  const labs = new LabRecords(openTestDb(t, tempStoreDir(t)));
  const spec = parseLab(CORE, 'core.yaml');
  assert.throws(() => storedGraph({ labs }, 'demo'), (err: unknown) => err instanceof NsboxError && err.code === 'NSBOX_ERR_NOT_FOUND' && /lab graph -f FILE/.test(err.message));
  labs.beginApply('demo', JSON.parse(JSON.stringify(spec)), 'digest', '/somewhere/core.yaml');
  const idle = storedGraph({ labs }, 'demo');
  assert.equal(idle.live, true);
  assert.deepEqual(idle.faults.map((f) => [f.name, f.active]), [['split', false]]);
  assert.deepEqual({ ...idle, live: false, faults: idle.faults.map((f) => ({ ...f, active: null })) }, buildGraph(spec), 'the stored spec draws as the file does');
  labs.putFault('demo', 'split', { blocked: {} }, undefined);
  labs.putFault('demo', 'partition:1', { groups: [['n1'], ['n2']] }, undefined);
  const live = storedGraph({ labs }, 'demo');
  assert.deepEqual(live.faults.map((f) => [f.name, f.active, f.defined]), [['split', true, true], ['partition:1', true, false]]);
  assert.match(renderGraph(live, 'mermaid'), /class N_n1,N_n2,N_r1,F_split,F_partition_3a_1 active/);
  labs.beginApply('old', { something: 'else' }, 'd', undefined);
  assert.throws(() => storedGraph({ labs }, 'old'), /stored spec is not one this nsbox can read/);
});
