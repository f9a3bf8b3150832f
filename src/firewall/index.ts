/**
 * Layer: firewall. The nsbox table in nf_tables (NAT, published ports, isolation), the host
 * ports published ports hold, and the host sysctls they need; lab faults (loss, partitions) in
 * a node's namespace.
 */
export { HostFirewall, firewallNetwork, firewallPort } from './host-firewall.js';
export { Firewall, type FirewallState, type ReconcileReport } from './firewall.js';
export type { FirewallNetwork, FirewallPort } from './elements.js';
export { HostPortHold, type HostPortRequest, type HostPortClaim } from './host-ports.js';
export { hostForwarding, type HostChange } from './sysctl.js';
export {
  FIREWALL_LABELS, TRAFFIC_LABELS, bridgeNetfilter, legacyIptablesTables, type ForeignFirewall, type ForwardChain, type ForwardFinding,
  type ForwardReport, type TrafficKind,
} from './coexistence.js';
export { LAYOUT_COMMENT, LAYOUT_VERSION, TABLE } from './layout.js';
export {
  FAULT_LAYOUT_COMMENT, FAULT_LAYOUT_VERSION, FAULT_TABLE, FaultTable, LOSS_SCALE, type FaultState,
} from './fault-table.js';
