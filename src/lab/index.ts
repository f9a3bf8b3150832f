/**
 * Layer: lab — declarative network labs (docs/labs.md): the topology file (parse, validate
 * with positions, JSON Schema), its compilation into resources, and the applier over managed/:
 * up (apply.ts, prune.ts), plan, down, gc of interrupted labs, ls, status (with drift.ts),
 * partitions and heal.
 */
export { Lab } from './lab.js';
export { parseLab, loadLabFile, labFromObject, validateLab } from './load.js';
export { compileLab, STAGES, type CompiledLab, type LabResource, type ResourceKind } from './compile.js';
export { labJsonSchema, labJsonSchemaText } from './json-schema.js';
export type * from './model.js';
export { up, plan, type Step, type UpResult } from './apply.js';
export { down, downAll, type DownResult } from './down.js';
export { gcLabs, type LabGcAction, type LabGcResult } from './gc.js';
export { listLabs, type LabListing } from './list.js';
export { computeDrift, type DriftItem } from './drift.js';
export { specDigest, specFromStored, specToStored } from './spec-json.js';
export { status, type LabStatus, type NodeStatus, type InterfaceStatus } from './status.js';
export { partition, heal, type PartitionResult } from './faults.js';
export { LAB_LABEL } from './naming.js';
