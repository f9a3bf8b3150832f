/**
 * Layer: firewall. The nsbox table in nf_tables (NAT, published ports, isolation), the host
 * ports published ports hold, and the host sysctls they need.
 */
export { HostFirewall, firewallNetwork, firewallPort } from './host-firewall.js';
export { Firewall, type FirewallState, type ReconcileReport } from './firewall.js';
export type { FirewallNetwork, FirewallPort } from './elements.js';
export { HostPortHold, type HostPortRequest, type HostPortClaim } from './host-ports.js';
export type { HostChange } from './sysctl.js';
export { LAYOUT_COMMENT, LAYOUT_VERSION, TABLE } from './layout.js';
