/**
 * Layer: store. Embedded state (SQLite): sandboxes, networks and leases, published ports, labs.
 */
export { openDb, explainStoreError, DB_FILE_NAME, SCHEMA_VERSION, BUSY_TIMEOUT_MS, type Db, type OpenDbOptions } from './db.js';
export {
  SandboxRecords, emptyConfig, type SandboxRecord, type SandboxConfig, type SandboxState, type InterfaceRecord,
} from './sandbox-records.js';
export {
  NetworkRecords, type NetworkRecord, type NetworkConfig, type OverlayConfig, type SubnetRecord, type Lease,
} from './network-records.js';
export { PortRecords, type PortRecord, type PortState, type PortKey } from './port-records.js';
export { HostSettings, type HostSetting } from './host-settings.js';
export { LabRecords, type LabRecord, type LabFaultRecord, type LabState } from './lab-records.js';
