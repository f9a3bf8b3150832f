/**
 * Layer: lab (pure but stored.ts, which reads the state store).
 *
 * `nsbox lab graph` (docs/labs.md, "Graph"): the graph model of a lab (model.ts) and one
 * renderer per format: mermaid, dot, json, html.
 */
import { renderDot } from './dot.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMermaid } from './mermaid.js';
import type { LabGraph } from './model.js';

export const GRAPH_FORMATS = ['mermaid', 'dot', 'json', 'html'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

const RENDERERS: Record<GraphFormat, (g: LabGraph) => string> = { mermaid: renderMermaid, dot: renderDot, json: renderJson, html: renderHtml };

export const isGraphFormat = (f: string): f is GraphFormat => (GRAPH_FORMATS as readonly string[]).includes(f);

/** The graph as text in the format. */
export const renderGraph = (g: LabGraph, format: GraphFormat): string => RENDERERS[format](g);

export { buildGraph, GRAPH_FORMAT, GRAPH_VERSION, type LabGraph, type GraphNode, type GraphNetwork, type GraphEdge, type GraphFault, type GraphLive } from './model.js';
export { storedGraph } from './stored.js';
