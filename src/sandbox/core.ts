/**
 * Layer: sandbox.
 *
 * The state of one sandbox that its modules share (osl's Namespace struct). Internal.
 */
import type { Rtnl } from '../netlink/route/ops/index.js';
import type { Interface } from './interface.js';
import type { Mutex } from './mutex.js';
import type { StaticRoute } from './routes.js';
import type { SysctlRoot } from './sysctl-root.js';

export interface SandboxCore {
  /** Absolute path of the netns file; also the key. */
  readonly key: string;
  /** fd of the sandbox's namespace, held for its life (carries the liveness flock). */
  nsFd: number;
  /** rtnetlink handle inside the sandbox. */
  rtnl: Rtnl;
  /** True for a sandbox that aliases the host namespace (osCreate: false). */
  readonly isDefault: boolean;
  /** Registered interfaces, in insertion order. */
  readonly ifaces: Interface[];
  /** Serialises naming, moving, renaming and registering of interfaces. */
  readonly lock: Mutex;
  gateway: string | undefined;
  gatewayIPv6: string | undefined;
  defRoute4SrcName: string | undefined;
  defRoute6SrcName: string | undefined;
  readonly staticRoutes: StaticRoute[];
  ipv6LoEnabled: boolean | undefined;
  /** The /proc/sys the sandbox's hot-path sysctl writes go through, taken at first use. */
  sysctlRoot: SysctlRoot | undefined;
  destroyed: boolean;
}
