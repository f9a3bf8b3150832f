/**
 * Layer: lab (pure).
 *
 * The graph as JSON: the model of model.ts as it is (format `nsbox-lab-graph`, version 1;
 * the schema is documented in docs/labs.md, "Graph"), two-space indented, keys in a fixed
 * order, every absent value null.
 */
import type { LabGraph } from './model.js';

export const renderJson = (g: LabGraph): string => `${JSON.stringify(g, null, 2)}\n`;
