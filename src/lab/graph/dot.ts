/**
 * Layer: lab (pure).
 *
 * The graph in Graphviz's DOT language (docs/labs.md, "Graph"), an undirected `graph`: nodes
 * as rounded boxes with their addresses, networks as hexagons (hubs), interfaces as
 * node–network edges and links as node–node edges (the ends' interface and address as tail
 * and head labels, the name and the impairments per direction in the middle), the faults in a
 * legend cluster; active faults' nodes and links red. Every id and label is a quoted string
 * with `\` and `"` escaped (DOT reads `\n`, `\l`, `\N`… in labels, so a backslash of a name
 * is doubled), so any name is safe; lines are joined with `\n`.
 */
import { addressLine, faultLine, type LabGraph } from './model.js';

/** A DOT quoted string of the lines (joined with \n, or \l: left-justified). */
export function dotString(lines: readonly string[] | string, join = '\\n'): string {
  const list = typeof lines === 'string' ? [lines] : lines;
  return `"${list.filter((l) => l !== '').map((l) => l.replace(/[\\"]/gu, (c) => `\\${c}`).replace(/\r?\n/gu, ' ')).join(join)}"`;
}

const attrs = (a: Record<string, string>): string => `[${Object.entries(a).map(([k, v]) => `${k}=${v}`).join(', ')}]`;

export function renderDot(g: LabGraph): string {
  const activeTouch = new Set(g.faults.filter((f) => f.active === true).flatMap((f) => f.touches));
  const red = (id: string): Record<string, string> => (activeTouch.has(id) ? { color: '"#d32f2f"', penwidth: '2.5' } : {});
  const out: string[] = [
    `// nsbox lab graph of lab ${g.lab} (${g.format} ${g.version})`,
    `graph ${dotString(g.lab)} {`,
    `  graph ${attrs({ label: dotString(`lab ${g.lab}`), labelloc: 't', fontname: '"Helvetica"', overlap: 'false', splines: 'true', nodesep: '0.4' })};`,
    `  node ${attrs({ fontname: '"Helvetica"', fontsize: '10' })};`,
    `  edge ${attrs({ fontname: '"Helvetica"', fontsize: '9' })};`,
  ];
  for (const n of g.nodes) {
    out.push(`  ${dotString(n.id)} ${attrs({ id: dotString(n.id), shape: 'box', style: '"rounded"', label: dotString([n.name, ...addressLine(n).split(', ')]), ...red(n.id) })};`);
  }
  for (const w of g.networks) {
    const lines = [w.name, w.subnets.join(' ') || `${w.driver}, subnet picked at up`];
    out.push(`  ${dotString(w.id)} ${attrs({ id: dotString(w.id), shape: 'hexagon', style: '"filled"', fillcolor: '"#e8f0fe"', label: dotString(lines) })};`);
  }
  for (const e of g.edges) {
    const a: Record<string, string> = e.kind === 'interface'
      ? { id: dotString(e.id), label: dotString(e.label) }
      : { id: dotString(e.id), label: dotString([e.name, ...e.impairLines]), taillabel: dotString(`${e.a.iface} ${e.a.address ?? ''}`.trim()), headlabel: dotString(`${e.b.iface} ${e.b.address ?? ''}`.trim()), style: '"bold"' };
    out.push(`  ${dotString(e.source)} -- ${dotString(e.target)} ${attrs({ ...a, ...red(e.id) })};`);
  }
  if (g.faults.length > 0) {
    out.push('  subgraph cluster_faults {', `    graph ${attrs({ label: '"faults"', style: '"dashed"' })};`);
    for (const f of g.faults) {
      const a = { id: dotString(f.id), shape: 'note', label: dotString(faultLine(f)), ...(f.active === true ? { color: '"#d32f2f"' } : {}) };
      out.push(`    ${dotString(f.id)} ${attrs(a)};`);
    }
    out.push('  }');
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
