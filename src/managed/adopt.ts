/**
 * Layer: managed.
 *
 * Adopt a recorded sandbox whose namespace is live: the Sandbox object with its interfaces,
 * routes and gateways re-registered from the record, without changing the kernel. Every
 * command on an existing sandbox works on an adopted one and lets it go afterwards.
 */
import { NsboxError } from '../errors.js';
import { Sandbox, type Interface } from '../sandbox/index.js';
import type { SandboxRecord } from '../store/index.js';
import type { StateRoot } from './root.js';

export interface Adopted {
  sandbox: Sandbox;
  /** The re-registered interfaces by their name inside. */
  interfaces: Map<string, Interface>;
}

/**
 * Re-register the record's ready interfaces, routes and gateways on the live namespace. With
 * `advertise`, interfaces re-send their unsolicited ARP/NA (restore after a restart does). With
 * `skipMissing`, a recorded interface the namespace no longer has is left out instead of
 * failing the adoption (a removal: a veth whose peer's namespace was destroyed is gone already).
 */
export async function adopt(rec: SandboxRecord, options: { advertise?: boolean; skipMissing?: boolean } = {}): Promise<Adopted> {
  let sandbox: Sandbox;
  try {
    sandbox = await Sandbox.create(rec.key, { isRestore: true });
  } catch (err) {
    throw goneAware(rec.name, err);
  }
  try {
    let rows = rec.config.interfaces.filter((i) => i.state === 'ready');
    if (options.skipMissing === true) {
      const present = new Set((await sandbox.netlink.link.list()).map((l) => l.name));
      rows = rows.filter((i) => present.has(i.dstName));
    }
    const ifaces = await sandbox.restoreInterfaces(rows.map((i) => ({
      srcName: i.srcName, dstPrefix: i.dstPrefix, dstName: i.dstName,
      options: options.advertise ? i.options : { ...i.options, advertiseAddrNMsgs: 0 },
    })));
    sandbox.restoreRoutes(rec.config.routes);
    if (rec.config.gateway) sandbox.restoreGateway(true, rec.config.gateway, '');
    if (rec.config.gatewayIPv6) sandbox.restoreGateway(false, rec.config.gatewayIPv6, '');
    return { sandbox, interfaces: new Map(ifaces.map((i) => [i.dstName, i])) };
  } catch (err) {
    sandbox.close();
    throw err;
  }
}

/** A vanished namespace named for the user, with what to do; any other error as it is. */
export function goneAware(name: string, err: unknown): unknown {
  if ((err as { code?: unknown }).code !== 'NSBOX_ERR_NETNS_GONE') return err;
  return new NsboxError(
    `sandbox ${name} has no network namespace any more (after a reboot?); run \`nsbox restore --recreate\` or \`nsbox rm ${name}\``,
    'NSBOX_ERR_NETNS_GONE', { cause: err },
  );
}

/** The sandbox's record, ready (NSBOX_ERR_BUSY when an interrupted command left it otherwise). The caller holds its lock. */
export function requireReady(root: StateRoot, name: string): SandboxRecord {
  const rec = root.record(name);
  if (rec.state !== 'ready') throw new NsboxError(`sandbox ${name} is ${rec.state} (an earlier command was interrupted?); run \`nsbox gc\``, 'NSBOX_ERR_BUSY');
  return rec;
}

/**
 * Under the sandbox's lock: its record (which must be ready), adopted, passed to `fn`, and let
 * go afterwards whatever `fn` does.
 */
export async function withAdopted<T>(root: StateRoot, name: string, fn: (adopted: Adopted, rec: SandboxRecord) => Promise<T>): Promise<T> {
  return root.locked(name, async () => {
    const rec = requireReady(root, name);
    const adopted = await adopt(rec);
    try {
      return await fn(adopted, rec);
    } finally {
      adopted.sandbox.close();
    }
  });
}
