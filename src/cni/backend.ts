/**
 * Layer: cni (process edge).
 *
 * What the plugin does once a call is checked: one method per operation, each given its
 * request fully parsed and validated by `runCni` (main.ts). The implementation that acts on
 * the kernel goes through the managed layer (src/managed/, the Manager API every edge calls).
 *
 * What an implementation owes (SPEC §2 and §4, and nsbox's own rules, docs/cni.md):
 *
 * - `add`: create CNI_IFNAME in CNI_NETNS and return the result in its in-memory form (runCni
 *   writes it in the config's version). Fail if the interface exists in the container. A
 *   failed ADD leaves nothing behind (records first, undo on failure: docs/contributing.md,
 *   "a managed operation"). With a delegated IPAM plugin: run it from `cniPath` with `stdin`
 *   and `environment` unchanged; check its answer with `checkResultExpressible` before touching
 *   the kernel, and run its DEL when ADD fails later. With a `prevResult`, pass it through with
 *   this plugin's additions.
 * - `del`: succeed when the attachment, or any part of it, is already gone, and when
 *   `netns` is undefined or its namespace is gone: tear down from nsbox's own records, keyed by
 *   (network name, container id, ifname), never from the config's plugin fields, which DEL
 *   does not parse. Forward DEL to a delegated IPAM plugin.
 * - `check`: compare what `prevResult` lists, and what nsbox recorded, with the kernel;
 *   throw when something is missing or different. Forward CHECK to a delegated IPAM plugin.
 * - `status`: resolve when an ADD could be served now; otherwise throw a CniError with 50
 *   (51 when existing containers may have lost connectivity). Any other error is reported as
 *   50. Forward STATUS to a delegated IPAM plugin. Keep it cheap: runtimes poll it.
 * - `gc`: remove every lease, link and rule of this network's attachments that are not in
 *   `validAttachments`; go on past errors and throw them all at the end. Forward GC to a
 *   delegated IPAM plugin.
 *
 * Errors: throw nsbox errors as the layers below do (runCni maps them by category,
 * errors.ts), or a CniError where the spec has a precise code (3 when the container is
 * unknown, 11 when it is worth retrying).
 */
import type { ConfigEnvelope, GcAttachment, PluginConfig } from './config.js';
import type { CniArgs, Environment } from './env.js';
import type { CniResult } from './result.js';

/** What every request carries: the call as it came, for delegated plugins (SPEC §4). */
export interface CniCall {
  /** The whole environment the plugin was started with (delegates get it unchanged). */
  environment: Environment;
  /** stdin as received (delegates get it unchanged). */
  stdin: string;
  /** CNI_PATH, split. */
  cniPath: readonly string[];
  /** CNI_ARGS, parsed. */
  cniArgs: CniArgs;
}

/** An attachment: SPEC §3 identifies it by (CNI_CONTAINERID, CNI_IFNAME). */
export interface Attachment {
  containerId: string;
  ifname: string;
}

export interface AddRequest extends CniCall {
  config: PluginConfig;
  attachment: Attachment;
  /** CNI_NETNS. */
  netns: string;
}

export interface CheckRequest extends CniCall {
  config: PluginConfig;
  attachment: Attachment;
  netns: string;
  /** The result of ADD, which CHECK must consult (required: runCni refuses a CHECK without it). */
  prevResult: CniResult;
}

export interface DelRequest extends CniCall {
  /** The envelope only: DEL works from nsbox's records. */
  config: ConfigEnvelope;
  attachment: Attachment;
  /** CNI_NETNS, optional for DEL. */
  netns: string | undefined;
}

export interface StatusRequest extends CniCall {
  config: PluginConfig;
}

export interface GcRequest extends CniCall {
  /** The envelope only: GC works from nsbox's records. */
  config: ConfigEnvelope;
  /** The attachments still valid (both GC keys, united); everything else of this network goes. */
  validAttachments: readonly GcAttachment[];
}

/** The plugin's operations (the obligations are in this module's header). VERSION needs none: runCni answers it. */
export interface CniBackend {
  add(request: AddRequest): Promise<CniResult>;
  del(request: DelRequest): Promise<void>;
  check(request: CheckRequest): Promise<void>;
  status(request: StatusRequest): Promise<void>;
  gc(request: GcRequest): Promise<void>;
}
