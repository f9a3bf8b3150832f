/**
 * nsbox — Linux network sandboxes for TypeScript. The public entry: re-exports only.
 */
export * from './errors.js';
export { errnoName, errnoNumber } from './errno.js';
export {
  createNetns, createNetnsWithNetlink, bindNetns, destroyNetns, openNetns, closeNetns, withNetns, socketIn, type DestroyResult,
  type CreatedNetns,
} from './sys/index.js';
export { NetlinkSocket, DEFAULT_TIMEOUT_MS, DUMP_INTR_RETRIES, type NetlinkSocketOptions, type RequestOptions, type NotificationSink } from './netlink/socket.js';
export type { Transport } from './netlink/transport.js';
export type { NetlinkFamily } from './netlink/family.js';
export type { BatchMessage, BatchReplies } from './netlink/batch.js';
export { openNetlinkSocket } from './netlink/native-transport.js';
export { RTNETLINK } from './netlink/route/family.js';
export * from './netlink/route/ops/index.js';
export { Rtnl, type RtnlOptions } from './netlink/route/ops/index.js';
export * from './sandbox/index.js';
export * from './network/index.js';
