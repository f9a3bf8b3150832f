/**
 * Layer: lab — declarative network labs (docs/labs.md). So far: the topology file (parse,
 * validate with positions, JSON Schema) and its compilation into resources; the applier
 * (plan against the store and the kernel, up, down, faults) comes on top of managed/.
 */
export { Lab } from './lab.js';
export { parseLab, loadLabFile, labFromObject, validateLab } from './load.js';
export { compileLab, STAGES, type CompiledLab, type LabResource, type ResourceKind } from './compile.js';
export { labJsonSchema, labJsonSchemaText } from './json-schema.js';
export type * from './model.js';
