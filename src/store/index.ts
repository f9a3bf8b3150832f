/**
 * Layer: store. Embedded state (SQLite): sandboxes now; networks and leases later.
 */
export { openDb, SCHEMA_VERSION, type Db } from './db.js';
export {
  SandboxRecords, emptyConfig, type SandboxRecord, type SandboxConfig, type SandboxState, type InterfaceRecord,
} from './sandbox-records.js';
export {
  NetworkRecords, type NetworkRecord, type NetworkConfig, type SubnetRecord, type Lease,
} from './network-records.js';
