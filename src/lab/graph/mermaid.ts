/**
 * Layer: lab (pure).
 *
 * The graph as a Mermaid `flowchart` (docs/labs.md, "Graph"): nodes as rounded boxes with
 * their addresses, networks as hexagons (hubs), interfaces as node–network edges and links
 * as node–node edges labelled with both ends and the impairments per direction, the faults as
 * a legend subgraph; active faults' nodes and links drawn red.
 *
 * Ids are the kind's letter and the name with every character but [A-Za-z0-9] written as
 * `_HEX_` (`leaf-1` is `N_leaf_2d_1`): distinct names give distinct ids, none a Mermaid
 * keyword (`end`). Label text is quoted, and every character outside a plain set is written
 * as Mermaid's entity code `#DECIMAL;`, so no name can break the syntax.
 */
import { addressLine, faultLine, type LabGraph } from './model.js';

const ID_PREFIX: Record<string, string> = { node: 'N', network: 'W', fault: 'F' };

/** A Mermaid id for a graph id ('node:leaf-1' -> 'N_leaf_2d_1'). */
export function mermaidId(graphId: string): string {
  const colon = graphId.indexOf(':');
  const name = graphId.slice(colon + 1);
  return `${ID_PREFIX[graphId.slice(0, colon)] ?? 'X'}_${name.replace(/[^A-Za-z0-9]/gu, (c) => `_${c.codePointAt(0)!.toString(16)}_`)}`;
}

/** Label text: plain characters kept, every other one as `#DECIMAL;`. Lines joined with <br/>. */
export function mermaidText(...lines: string[]): string {
  return lines.filter((l) => l !== '').map((l) => l.replace(/[^A-Za-z0-9 .,:/_()+=*@-]/gu, (c) => `#${c.codePointAt(0)!};`)).join('<br/>');
}

export function renderMermaid(g: LabGraph): string {
  const out: string[] = [`%% nsbox lab graph of lab ${mermaidText(g.lab)} (${g.format} ${g.version})`, 'flowchart LR'];
  const activeTouch = new Set(g.faults.filter((f) => f.active === true).flatMap((f) => f.touches));
  for (const n of g.nodes) out.push(`  ${mermaidId(n.id)}("${mermaidText(n.name, addressLine(n))}")`);
  for (const w of g.networks) out.push(`  ${mermaidId(w.id)}{{"${mermaidText(w.name, w.subnets.join(' ') || `${w.driver}, subnet picked at up`)}"}}`);
  const redLinks: number[] = [];
  g.edges.forEach((e, i) => {
    const label = e.kind === 'interface' ? mermaidText(e.label) : mermaidText(`${e.name}: ${e.label}`, ...e.impairLines);
    out.push(`  ${mermaidId(e.source)} ---|"${label}"| ${mermaidId(e.target)}`);
    if (activeTouch.has(e.id)) redLinks.push(i);
  });
  if (g.faults.length > 0) {
    out.push('  subgraph legend ["faults"]');
    for (const f of g.faults) out.push(`    ${mermaidId(f.id)}["${mermaidText(faultLine(f))}"]`);
    out.push('  end');
  }
  out.push('  classDef network fill:#e8f0fe,stroke:#3b6fd8');
  out.push('  classDef fault fill:#fff8e1,stroke:#b08900');
  out.push('  classDef active stroke:#d32f2f,stroke-width:3px');
  if (g.networks.length > 0) out.push(`  class ${g.networks.map((w) => mermaidId(w.id)).join(',')} network`);
  if (g.faults.length > 0) out.push(`  class ${g.faults.map((f) => mermaidId(f.id)).join(',')} fault`);
  const active = [...g.nodes.filter((n) => activeTouch.has(n.id)).map((n) => n.id), ...g.faults.filter((f) => f.active === true).map((f) => f.id)];
  if (active.length > 0) out.push(`  class ${active.map(mermaidId).join(',')} active`);
  if (redLinks.length > 0) out.push(`  linkStyle ${redLinks.join(',')} stroke:#d32f2f,stroke-width:3px`);
  return `${out.join('\n')}\n`;
}
