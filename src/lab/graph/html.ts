/**
 * Layer: lab (pure).
 *
 * The graph as ONE self-contained HTML page (docs/labs.md, "Graph"): inline CSS and script
 * (html-assets.ts), the drawing as inline SVG laid out at generation time (layout.ts), the
 * graph's JSON embedded for the hover details; no URL of any kind, so opening it fetches
 * nothing. Every node, network, interface, link and fault is an element with
 * `data-graph-id` (its id in the JSON) and `data-kind`; each edge's label is a `<text>` with
 * `data-label-for`. The SVG's viewBox is the drawing's bounds, so the first view fits the
 * window. Text goes through escapeHtml (and the JSON through jsonForScript), so no name can
 * break out of its attribute, element or script.
 */
import { PAGE_CSS, PAGE_SCRIPT } from './html-assets.js';
import { EDGE_LINE, FONT, layoutGraph } from './layout.js';
import { faultLine, type LabGraph } from './model.js';

const MARGIN = 24;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/gu, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that cannot end the <script> element it is in (nor open a comment). */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const attr = (name: string, value: string | number): string => ` ${name}="${escapeHtml(String(value))}"`;

export function renderHtml(g: LabGraph): string {
  const layout = layoutGraph(g);
  const edgeById = new Map(g.edges.map((e) => [e.id, e]));
  const active = new Set(g.faults.filter((f) => f.active === true).flatMap((f) => f.touches));
  const cls = (...c: (string | false)[]): string => attr('class', c.filter((x) => x !== false).join(' '));

  const edges: string[] = [];
  const labels: string[] = [];
  for (const s of layout.edges) {
    const e = edgeById.get(s.id)!;
    const impaired = e.kind === 'link' && e.impairLines.length > 0;
    edges.push(`<g${cls('edge', e.kind, impaired && 'impaired', active.has(e.id) && 'touched')}${attr('data-graph-id', e.id)}${attr('data-kind', e.kind)}>`
      + `<path class="hit"${attr('d', s.d)}/><path class="line"${attr('d', s.d)}/></g>`);
    const tspans = s.lines.map((l, i) => `<tspan${i === 0 ? ' class="name"' : ''}${attr('x', s.labelX)}${attr('y', +(s.labelY + (i + 1) * EDGE_LINE - 3).toFixed(1))}>${escapeHtml(l)}</tspan>`).join('');
    labels.push(`<text class="elabel" text-anchor="middle"${attr('data-label-for', e.id)}>${tspans}</text>`);
  }
  const vertices = layout.boxes.map((b) => {
    const x0 = +(b.x - b.w / 2).toFixed(1);
    const y0 = +(b.y - b.h / 2).toFixed(1);
    const text = b.lines.map((l, i) => {
      const y = +(y0 + 7 + FONT.title + (i === 0 ? 0 : 2 + i * (FONT.line + 3))).toFixed(1);
      return `<text${i === 0 ? ' class="title"' : ' class="line"'} text-anchor="middle"${attr('x', b.x)}${attr('y', y)}>${escapeHtml(l)}</text>`;
    }).join('');
    const rx = b.kind === 'network' ? 12 : 5;
    return `<g${cls('vertex', b.kind, active.has(b.id) && 'touched')}${attr('data-graph-id', b.id)}${attr('data-kind', b.kind)}>`
      + `<rect${attr('x', x0)}${attr('y', y0)}${attr('width', b.w)}${attr('height', b.h)}${attr('rx', rx)}/>${text}</g>`;
  });
  const links = g.edges.filter((e) => e.kind === 'link').length;
  const viewBox = [-MARGIN, -MARGIN, layout.width + 2 * MARGIN, Math.max(layout.height, 1) + 2 * MARGIN].map((n) => +n.toFixed(1)).join(' ');
  const faults = g.faults.map((f) => `<li${cls(f.active === true && 'active')}${attr('data-graph-id', f.id)} data-kind="fault"${attr('data-touches', f.touches.join(' '))}>`
    + `${escapeHtml(faultLine(f))}</li>`).join('\n');
  const meta = `${g.nodes.length} nodes, ${g.networks.length} networks, ${links} links, ${g.faults.length} faults${g.live ? ' (live: active faults marked)' : ''}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="nsbox lab graph (${g.format} ${g.version})">
<title>${escapeHtml(`lab ${g.lab}`)}</title>
<style>${PAGE_CSS}</style>
</head>
<body data-verdict="pending"${attr('data-lab', g.lab)}>
<header><h1>${escapeHtml(`lab ${g.lab}`)}</h1><span class="meta">${escapeHtml(meta)}</span><span class="help">hover: details · wheel or +/−: zoom · drag: pan · 0 or double-click: fit</span></header>
<main>
<svg id="graph"${attr('viewBox', viewBox)} preserveAspectRatio="xMidYMid meet" role="img"${attr('aria-label', `graph of lab ${g.lab}`)}>
<g id="edges">
${edges.join('\n')}
</g>
<g id="vertices">
${vertices.join('\n')}
</g>
<g id="edge-labels">
${labels.join('\n')}
</g>
</svg>
${g.faults.length > 0 ? `<aside id="legend"><h2>faults</h2><ul>\n${faults}\n</ul></aside>\n` : ''}</main>
<div id="tip" hidden></div>
<output id="verdict"></output>
<script type="application/json" id="graph-data">${jsonForScript(g)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
