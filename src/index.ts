/**
 * nsbox — Linux network sandboxes for TypeScript. The public entry: every name here is
 * documented in docs/api.md (test/unit/package.test.ts checks the two lists against each
 * other), and nothing else is public.
 */

// The osl port (docs/api.md: Sandboxes … Leak collection)
export { Sandbox, SandboxType, type SandboxCreateOptions } from './sandbox/sandbox.js';
export type { Interface, InterfaceStatistics } from './sandbox/interface.js';
export type { InterfaceOptions } from './sandbox/options.js';
export type { StaticRoute } from './sandbox/routes.js';
export type { AddNeighborOptions } from './sandbox/neighbors.js';
export type { RestoreInterface } from './sandbox/restore.js';
export { setBasePath, generateKey } from './sandbox/key.js';
export { gc, type GcOptions, type GcReport } from './sandbox/gc.js';
export { applyKernelKnobs, type OSValue } from './sandbox/sysctl.js';

// State, networks and the crash-safe orchestration over them (docs/api.md: Managed sandboxes, Networks)
export { Manager, type RootOptions } from './managed/index.js';
export { parsePortSpecs, portMappingText, type PortMapping, type PortProtocol, type Connection, type ConnectOptions } from './managed/index.js';
export type { PortRecord, PortState } from './store/index.js';
export { Networks, DEFAULT_NETWORK, type NetworkCreateOptions, type NetworkInfo, type AttachOptions, type Attachment, type MacvlanMode } from './network/index.js';
export { parseSubnet, nextFree, checkAssignable, macFromIPv4, subnetsOverlap, type Subnet, type Cidr } from './network/index.js';

// Labs: whole networks from one file, with impairments and faults (docs/api.md: Labs, docs/labs.md)
export {
  Lab, useLab, labJsonSchema,
  type LabRunOptions, type LabFault, type LabNode, type TestContextLike, type NodeExecOptions, type NodeExecResult,
  type LabSpec, type Step, type UpResult, type DownResult, type LabStatus, type ImpairOptions, type ImpairResult,
} from './lab/index.js';

// Errors (docs/errors.md)
export {
  ERROR_CODES, categoryOf, NsboxError, SysError, NetlinkError, DumpInterruptedError, TimeoutError, DecodeError, ConfigError, ClosedError,
  AbortError, SandboxError, NeighborSearchError, NftError, GenerationChangedError, LabFileError,
  type ErrorCategory, type ErrorCode, type ErrnoCode, type Extack, type NsboxErrorOptions, type SandboxErrorOptions,
} from './errors.js';
export { errnoName, errnoNumber, errnoText } from './errno.js';

// Low level: namespaces, netlink (docs/api.md: Low level)
export {
  createNetns, createNetnsWithNetlink, bindNetns, destroyNetns, openNetns, closeNetns, withNetns, socketIn, type DestroyResult, type CreatedNetns,
} from './sys/index.js';
export { NetlinkSocket, DEFAULT_TIMEOUT_MS, DUMP_INTR_RETRIES, type NetlinkSocketOptions, type RequestOptions, type NotificationSink } from './netlink/socket.js';
export type { Transport } from './netlink/transport.js';
export type { NetlinkFamily } from './netlink/family.js';
export type { BatchMessage, BatchReplies } from './netlink/batch.js';
export { openNetlinkSocket } from './netlink/native-transport.js';
export { RTNETLINK } from './netlink/route/family.js';
export {
  Rtnl, NO_STATS, type RtnlOptions, type LinkRef, type Link, type LinkAddOptions, type LinkSetOptions, type LinkListOptions, type LinkCommonOptions,
  type LinkGetOptions, type Address, type AddressOptions, type AddressListOptions, type Scope, type Route, type RouteOptions, type RouteListOptions,
  type RouteGetOptions, type RouteType, type Neighbor, type NeighborOptions, type NeighborListOptions, type RtEvent, type ResyncEvent, type SubscribeOptions, type SubscriptionGroup,
} from './netlink/route/ops/index.js';
export { NFTABLES } from './netlink/nftables/family.js';
export {
  Nft, NftTransaction, type NftOptions, type NftListOptions, type NftTable, type NftChain, type NftRule, type NftSet, type NftSetElement,
  type NftGeneration, type NftCapabilities, type NftTransactionOptions, type AddOptions as NftAddOptions, type TableRef as NftTableRef,
  type TableSpec as NftTableSpec, type ChainRef as NftChainRef, type ChainSpec as NftChainSpec, type BaseChainSpec as NftBaseChainSpec,
  type RuleSpec as NftRuleSpec, type RulePlacement as NftRulePlacement, type RuleRef as NftRuleRef, type SetRef as NftSetRef,
} from './netlink/nftables/ops/index.js';
export {
  decodeValues as decodeNftValues, type SetSpec as NftSetSpec, type ElementSpec as NftElementSpec, type Expr as NftExpr, type Verdict as NftVerdict,
  type NftFamily, type DatatypeName as NftDatatype, type FieldValue as NftFieldValue,
} from './netlink/nftables/schema/index.js';
export * as nftStatements from './netlink/nftables/schema/statements.js';
export * as nftValues from './netlink/nftables/schema/values.js';
export { CTNETLINK } from './netlink/conntrack/family.js';
export {
  Conntrack, type ConntrackOptions, type ConntrackEntry, type ConntrackKey, type ConntrackTuple, type ConntrackProtocol, type ConntrackProtocolName,
  type ConntrackStatus, type ConntrackTcpState, type ConntrackFilter, type ConntrackFlushFilter, type ConntrackDeleteReport, type ConntrackFlushReport,
  type ConntrackCapabilities,
} from './netlink/conntrack/ops/index.js';
