/**
 * Layer: managed. Crash-safe orchestration over a state root: the API the process edges
 * (cli/, and later cni/, lab/, agent/) call.
 */
export { Manager } from './manager.js';
export { DEFAULT_ROOT, IPROUTE_NETNS_DIR, checkLabName, stateRootDir, type RootOptions } from './root.js';
export type { CreateSandboxOptions, RemoveOutcome, SandboxStatus, KernelView } from './sandboxes.js';
export type { AddInterfaceOptions } from './interfaces.js';
export type { RouteSpec, Gateways, NeighborSpec, Neighbor } from './settings.js';
export { checkRoute } from './settings.js';
export type { ConnectOptions, Connection } from './connect.js';
export type { VethPair, VethPairEnd } from './veth-pair.js';
export type { SysctlChange } from './sysctls.js';
export { parsePortSpec, parsePortSpecs, portMappingText, type PortMapping, type PortProtocol } from './port-spec.js';
export type { NetworkView, NamedLease } from './networks.js';
export { checkDnsServers } from './names.js';
export { EXEC_FAILED, RUN_LABEL, RUN_EPHEMERAL, type ChildOutcome, type ExecInPlaceOptions, type ExecOptions, type RunOptions, type RunOutcome, type LaunchInfo } from './run.js';
export type { GcAction, GcOptions, GcResult } from './gc.js';
export { pausePoint } from './test-hooks.js';
export type { RestoreOptions, RestoreOutcome } from './restore.js';
export { describeFinding, type CheckStatus, type DoctorCheck, type DoctorReport } from './doctor.js';
export { DEFAULT_UNIT_DIR, FIREWALL_DROPIN, firewallHookContent, type FirewallHook, type FirewallHookOptions } from './firewall-hook.js';
export { EXTERNAL_LABEL, type AttachExternalOptions, type ExternalAttachment, type ExtraRoute, type RateLimit } from './external.js';
export type { SpawnInOptions } from './spawn-in.js';
