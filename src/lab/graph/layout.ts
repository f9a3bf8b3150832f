/**
 * Layer: lab (pure).
 *
 * A deterministic layered layout of the graph for the HTML page (html.ts), computed at
 * generation time: no randomness and no iteration to a tolerance, so the same graph always
 * gets the same coordinates.
 *
 * Per connected component the root is the vertex of highest degree (networks before nodes on
 * a tie, then by id); breadth-first layers from it go top to bottom, each ordered by the mean
 * position of its neighbours in the layer above (fewer crossings), and a layer wider than
 * MAX_ROW_WIDTH wraps into rows of equal slots (a hub's 99 leaves become a grid under it,
 * legible at the page's first scale). Components sit side by side.
 *
 * Edges are straight between box borders; an edge within one row, and every edge after the
 * first between the same two vertices, is a curve. Each edge's label block sits in the gap
 * between two rows, where the edge crosses it: the middle of the edge, or, when one end is a
 * hub (degree > HUB_DEGREE), in the gap just before the other end, so a hub's labels spread
 * out instead of piling up at it. Gaps grow to hold the tallest label block in them. Sizes
 * come from the labels' lengths at the fixed font sizes of FONT (the page uses the same).
 */
import { addressText, type GraphEdge, type LabGraph } from './model.js';
import { naturalCompare } from './text.js';

export const FONT = { title: 12, line: 10, edge: 9 } as const;
export const EDGE_LINE = FONT.edge + 3;
/** Average glyph width as a fraction of the font size (sans-serif, a little generous). */
const GLYPH = 0.62;
const PAD = 7;
const COL_GAP = 28;
const MIN_GAP = 40;
const COMPONENT_GAP = 80;
const MAX_ROW_WIDTH = 1500;
export const HUB_DEGREE = 6;
/** Address lines a box shows at most (a hub's 99 are in its hover). */
const MAX_BOX_LINES = 4;

export interface Box {
  id: string;
  kind: 'node' | 'network';
  /** Centre. */
  x: number;
  y: number;
  w: number;
  h: number;
  lines: string[];
}

export interface EdgeShape {
  id: string;
  /** SVG path data, from border to border. */
  d: string;
  /** The label block: lines centred on labelX, its top at labelY. */
  labelX: number;
  labelY: number;
  /** The label block's lines (the first the edge's name or interface). */
  lines: string[];
}

export interface Layout {
  boxes: Box[];
  edges: EdgeShape[];
  width: number;
  height: number;
}

export const textWidth = (s: string, size: number): number => Math.ceil([...s].length * size * GLYPH);
const cmp = naturalCompare;
const r1 = (n: number): number => Math.round(n * 10) / 10;

function vertexLines(g: LabGraph): Map<string, { kind: Box['kind']; lines: string[] }> {
  const m = new Map<string, { kind: Box['kind']; lines: string[] }>();
  for (const w of g.networks) m.set(w.id, { kind: 'network', lines: [w.name, ...(w.subnets.length > 0 ? w.subnets : [`${w.driver} (subnet at up)`])] });
  for (const n of g.nodes) {
    const addrs = n.addresses.map(addressText);
    const shown = addrs.length > MAX_BOX_LINES ? [...addrs.slice(0, MAX_BOX_LINES - 1), `+${addrs.length - MAX_BOX_LINES + 1} more`] : addrs;
    m.set(n.id, { kind: 'node', lines: [n.name, ...shown] });
  }
  return m;
}

function sizeOf(lines: readonly string[]): { w: number; h: number } {
  const w = Math.max(textWidth(lines[0] ?? '', FONT.title), ...lines.slice(1).map((l) => textWidth(l, FONT.line))) + 2 * PAD;
  return { w: Math.max(w, 48), h: FONT.title + 4 + (lines.length - 1) * (FONT.line + 3) + 2 * PAD };
}

/** The label block of an edge; `dense`: an end is a hub (the ends' details are in its boxes and its hover). */
function edgeLines(e: GraphEdge, dense: boolean): string[] {
  if (e.kind === 'interface') return [e.label];
  const end = (x: typeof e.a, side: string): string => `${side}: ${x.node} ${x.iface}${x.address === null ? '' : ` ${x.address}`}`;
  return dense ? [e.name, ...e.impairLines] : [e.name, end(e.a, 'a'), end(e.b, 'b'), ...e.impairLines];
}

interface Placed {
  comp: number;
  row: number;
}

export function layoutGraph(g: LabGraph): Layout {
  const info = vertexLines(g);
  const ids = [...info.keys()].sort(cmp);
  const adj = new Map<string, Set<string>>(ids.map((id) => [id, new Set<string>()]));
  for (const e of g.edges) {
    if (e.source === e.target) continue;
    adj.get(e.source)?.add(e.target);
    adj.get(e.target)?.add(e.source);
  }
  const degree = (id: string): number => adj.get(id)!.size;
  const kindRank = (id: string): number => (info.get(id)!.kind === 'network' ? 0 : 1);
  const rootOrder = [...ids].sort((a, b) => degree(b) - degree(a) || kindRank(a) - kindRank(b) || cmp(a, b));

  // 1. Components, layers, rows.
  const comps: { rows: { ids: string[]; slot: number }[] }[] = [];
  const placed = new Map<string, Placed>();
  const seen = new Set<string>();
  for (const root of rootOrder) {
    if (seen.has(root)) continue;
    const layers: string[][] = [[root]];
    seen.add(root);
    for (;;) {
      const prev = layers[layers.length - 1]!;
      const index = new Map(prev.map((id, i) => [id, i]));
      const next = new Set<string>();
      for (const id of prev) for (const n of [...adj.get(id)!].sort(cmp)) if (!seen.has(n)) next.add(n);
      if (next.size === 0) break;
      for (const n of next) seen.add(n);
      const mean = (id: string): number => {
        const ups = [...adj.get(id)!].map((n) => index.get(n)).filter((i) => i !== undefined);
        return ups.reduce((s, i) => s + i, 0) / ups.length;
      };
      layers.push([...next].sort((a, b) => mean(a) - mean(b) || cmp(a, b)));
    }
    const rows: { ids: string[]; slot: number }[] = [];
    for (const layer of layers) {
      const widths = layer.map((id) => sizeOf(info.get(id)!.lines).w);
      if (widths.reduce((s, w) => s + w + COL_GAP, -COL_GAP) <= MAX_ROW_WIDTH) {
        rows.push({ ids: layer, slot: 0 });
        continue;
      }
      const slot = Math.max(...widths) + COL_GAP;
      const perRow = Math.max(1, Math.floor((MAX_ROW_WIDTH + COL_GAP) / slot));
      for (let i = 0; i < layer.length; i += perRow) rows.push({ ids: layer.slice(i, i + perRow), slot });
    }
    rows.forEach((r, ri) => { for (const id of r.ids) placed.set(id, { comp: comps.length, row: ri }); });
    comps.push({ rows });
  }

  // 2. Where each edge's label goes: the gap below row `gap` of its component.
  const pairCount = new Map<string, number>();
  const plans = g.edges.filter((e) => placed.has(e.source) && placed.has(e.target)).map((e) => {
    const s = placed.get(e.source)!;
    const t = placed.get(e.target)!;
    const sHub = degree(e.source) > HUB_DEGREE;
    const tHub = degree(e.target) > HUB_DEGREE;
    const lines = edgeLines(e, sHub || tHub);
    let gap: number;
    if (s.row === t.row) gap = s.row; // curved below the row
    else if (sHub !== tHub) gap = (sHub ? t.row : s.row) + ((sHub ? s.row : t.row) < (sHub ? t.row : s.row) ? -1 : 0); // just before the leaf
    else gap = Math.floor((s.row + t.row - 1) / 2);
    const pair = [e.source, e.target].sort(cmp).join('\n');
    const nth = pairCount.get(pair) ?? 0;
    pairCount.set(pair, nth + 1);
    return { e, s, lines, gap, nth };
  });
  // 3. Coordinates: x of every box, then y once the gaps' heights are known. Labels in one gap
  // that would overlap go on separate levels (bands) of that gap, which grows to hold them.
  const place = (gapHeight: (key: string) => number): { boxes: Map<string, Box>; gapTop: Map<string, number>; height: number; width: number } => {
    const boxes = new Map<string, Box>();
    const gapTop = new Map<string, number>();
    let left = 0;
    let height = 0;
    comps.forEach((c, ci) => {
      const rowWidth = (r: { ids: string[]; slot: number }): number => (r.slot > 0 ? r.ids.length * r.slot - COL_GAP
        : r.ids.reduce((s, id) => s + sizeOf(info.get(id)!.lines).w + COL_GAP, -COL_GAP));
      const compWidth = Math.max(...c.rows.map(rowWidth));
      let y = 0;
      c.rows.forEach((r, ri) => {
        const rowH = Math.max(...r.ids.map((id) => sizeOf(info.get(id)!.lines).h));
        let x = left + (compWidth - rowWidth(r)) / 2;
        for (const id of r.ids) {
          const { kind, lines } = info.get(id)!;
          const { w, h } = sizeOf(lines);
          const cell = r.slot > 0 ? r.slot - COL_GAP : w;
          boxes.set(id, { id, kind, x: r1(x + cell / 2), y: r1(y + rowH / 2), w, h, lines });
          x += cell + COL_GAP;
        }
        y += rowH;
        const key = `${ci}/${ri}`;
        gapTop.set(key, y);
        // The last row has a gap only when a label needs it (a curve below it).
        if (ri < c.rows.length - 1 || used.has(key)) y += gapHeight(key);
      });
      height = Math.max(height, y);
      left += compWidth + COMPONENT_GAP;
    });
    return { boxes, gapTop, height, width: Math.max(0, left - COMPONENT_GAP) };
  };
  const used = new Set(plans.map((p) => `${p.s.comp}/${p.gap}`));
  const blockH = (p: { lines: string[] }): number => p.lines.length * EDGE_LINE;
  const xAt = (a: Box, b: Box, y: number): number => (a.y === b.y ? (a.x + b.x) / 2 : a.x + (b.x - a.x) * Math.min(1, Math.max(0, (y - a.y) / (b.y - a.y))));
  const first = place((key) => Math.max(MIN_GAP, ...plans.filter((p) => `${p.s.comp}/${p.gap}` === key).map((p) => blockH(p) + 24)));
  const levelOf = new Map<(typeof plans)[number], number>();
  const bands = new Map<string, number[]>(); // per gap: the height of each level
  for (const key of used) {
    const inGap = plans.filter((p) => `${p.s.comp}/${p.gap}` === key).map((p) => {
      const a = first.boxes.get(p.e.source)!;
      const b = first.boxes.get(p.e.target)!;
      const x = xAt(a, b, first.gapTop.get(key)! + blockH(p) / 2 + 12);
      const half = Math.max(...p.lines.map((l) => textWidth(l, FONT.edge))) / 2 + 6;
      return { p, lo: x - half, hi: x + half };
    }).sort((u, v) => u.lo - v.lo || cmp(u.p.e.id, v.p.e.id));
    const ends: number[] = [];
    const heights: number[] = [];
    for (const { p, lo, hi } of inGap) {
      let level = ends.findIndex((end) => end <= lo);
      if (level < 0) level = ends.length;
      ends[level] = hi;
      heights[level] = Math.max(heights[level] ?? 0, blockH(p));
      levelOf.set(p, level);
    }
    bands.set(key, heights);
  }
  const bandsHeight = (key: string): number => (bands.get(key) ?? []).reduce((s, h) => s + h + 6, -6);
  const { boxes, gapTop, height, width } = place((key) => Math.max(MIN_GAP, bandsHeight(key) + 24));
  /** The centre of the label's band; the bands are centred in the gap. */
  const labelCentre = (p: (typeof plans)[number]): number => {
    const key = `${p.s.comp}/${p.gap}`;
    const heights = bands.get(key)!;
    const gap = Math.max(MIN_GAP, bandsHeight(key) + 24);
    let y = gapTop.get(key)! + (gap - bandsHeight(key)) / 2;
    const level = levelOf.get(p)!;
    for (let i = 0; i < level; i++) y += heights[i]! + 6;
    return y + heights[level]! / 2;
  };

  // 4. Edge shapes.
  const edges: EdgeShape[] = plans.map((p) => {
    const { e, lines, nth } = p;
    const a = boxes.get(e.source)!;
    const b = boxes.get(e.target)!;
    const midY = labelCentre(p);
    const bh = blockH(p);
    if (a.y === b.y || nth > 0) {
      // A curve: through the label's band below the row (same row), or bent sideways (a second
      // edge between the same two vertices).
      let cx: number;
      let cy: number;
      if (a.y === b.y) {
        cx = (a.x + b.x) / 2;
        cy = 2 * midY - a.y;
      } else {
        const off = 40 * Math.ceil(nth / 2) * (nth % 2 === 1 ? 1 : -1);
        cx = (a.x + b.x) / 2 + off * 2;
        cy = (a.y + b.y) / 2;
      }
      const p0 = borderPoint(a, cx, cy);
      const p2 = borderPoint(b, cx, cy);
      const apexX = (p0.x + 2 * cx + p2.x) / 4;
      const apexY = a.y === b.y ? midY : (p0.y + 2 * cy + p2.y) / 4;
      return { id: e.id, d: `M${r1(p0.x)},${r1(p0.y)} Q${r1(cx)},${r1(cy)} ${r1(p2.x)},${r1(p2.y)}`, labelX: r1(apexX), labelY: r1(apexY - bh / 2), lines };
    }
    const p0 = borderPoint(a, b.x, b.y);
    const p2 = borderPoint(b, a.x, a.y);
    return { id: e.id, d: `M${r1(p0.x)},${r1(p0.y)} L${r1(p2.x)},${r1(p2.y)}`, labelX: r1(xAt(a, b, midY)), labelY: r1(midY - bh / 2), lines };
  });
  return { boxes: [...boxes.values()], edges, width, height };
}

/** Where the line from the box's centre towards (x, y) leaves the box. */
function borderPoint(b: Box, x: number, y: number): { x: number; y: number } {
  const dx = x - b.x;
  const dy = y - b.y;
  if (dx === 0 && dy === 0) return { x: b.x, y: b.y };
  const s = Math.min(dx === 0 ? Infinity : b.w / 2 / Math.abs(dx), dy === 0 ? Infinity : b.h / 2 / Math.abs(dy));
  return { x: b.x + dx * Math.min(1, s), y: b.y + dy * Math.min(1, s) };
}
