/**
 * Layer: sandbox. The osl port's public surface.
 */
export { Sandbox, SandboxType, type SandboxCreateOptions } from './sandbox.js';
export { Interface, type InterfaceStatistics } from './interface.js';
export type { InterfaceOptions } from './options.js';
export {
  ADVERTISE_ADDR_NMSGS_MIN, ADVERTISE_ADDR_NMSGS_MAX, ADVERTISE_ADDR_INTERVAL_MIN_MS, ADVERTISE_ADDR_INTERVAL_MAX_MS,
} from './options.js';
export type { StaticRoute } from './routes.js';
export type { AddNeighborOptions } from './neighbors.js';
export type { RestoreInterface } from './restore.js';
export { setBasePath, basePath, generateKey } from './key.js';
export { gc, type GcOptions, type GcReport } from './gc.js';
export { applyKernelKnobs, type OSValue } from './sysctl.js';
export { generateIfaceName } from './naming.js';
export { resolveOptions, parseSysctl } from './options.js';
export { sweepLockFiles, withFileLock, withFileLockSync } from './file-lock.js';
export { removeNamespaceFile, isNamespaceMounted } from './namespace-file.js';
export { hostNetlink } from './host.js';
export { returnLink, type ReturnLinkOptions } from './link-return.js';
export { tcpConnects } from './tcp-connect.js';
/** The process replaced by another program (execve): `nsbox exec` becomes the nsbox-exec helper. */
export { execReplace } from '../sys/index.js';
