/**
 * Layer: lab — declarative network labs (docs/labs.md): the topology file (parse, validate
 * with positions, JSON Schema), its compilation into resources, and the applier over managed/:
 * up (apply.ts, prune.ts), plan, down, gc of interrupted labs, ls, status (with drift.ts), faults
 * (named, ad-hoc partitions, heal, timed), `impair`, the supervisor (processes, delay engines),
 * graph.
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
export {
  applyFault, healFault, partition, heal, healDue, nextHealAt, runScheduleStep, activeFaults,
  type ApplyFaultResult, type HealFaultResult, type HealAllResult, type PartitionResult, type FaultOptions,
} from './faults.js';
export { listFaults, activeFaultStatus, type FaultStatus } from './fault-list.js';
export type { ActiveFault, FaultAction } from './fault-record.js';
export { impair, type ImpairOptions, type ImpairResult } from './impair-live.js';
export { applyImpairment, readImpairment } from './link-impairment.js';
export { labSpecOf, storedSpec } from './stored-spec.js';
export { LAB_LABEL } from './naming.js';
export { buildGraph, renderGraph, storedGraph, GRAPH_FORMATS, isGraphFormat, type GraphFormat, type LabGraph } from './graph/index.js';
export { labExec } from './exec.js';
export { logSources, followLogs, tailLines, type LogSource } from './logs.js';
export { supervise } from './supervisor/daemon.js';
export { signalProcess, restartProcess, reapLeftovers, reapAllLeftovers, stopSupervisor, startSupervisor, supervisorStatus } from './supervisor/client.js';
export type { SupervisorView } from './supervisor/status.js';
export type { ProcessStatus, ProcessState } from './supervisor/supervised-process.js';
