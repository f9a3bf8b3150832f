/**
 * Layer: cli.
 *
 * Undo an `iface add` that was killed half way: wherever the link got to inside the sandbox
 * (under its source or its new name), put it back in the host under its source name (or
 * delete a bridge nsbox created), then drop the row.
 */
import type { SandboxRecord } from '../../store/index.js';
import { Rtnl } from '../../netlink/route/ops/index.js';
import type { Context } from '../context.js';
import { hostVethName } from '../../network/index.js';

export async function undoInterruptedInterfaces(ctx: Context, rec: SandboxRecord): Promise<string[]> {
  const pending = rec.config.interfaces.filter((i) => i.state === 'adding');
  if (pending.length === 0) return [];
  const errors: string[] = [];
  const inside = Rtnl.open({ netns: rec.key });
  const hostFd = '/proc/self/ns/net';
  const host = Rtnl.open({ netns: hostFd });
  try {
    for (const row of pending) {
      try {
        const link = (await inside.link.find({ name: row.dstName })) ?? (await inside.link.find({ name: row.srcName }));
        if (row.network !== undefined) {
          // A network's link was made for the sandbox: delete both ends, release the addresses.
          if (link !== undefined) await inside.link.del({ index: link.index }).catch(() => undefined);
          await host.link.del({ name: hostVethName(rec.key, row.network) }).catch(() => undefined);
          ctx.networks.records.release(rec.key, row.network);
        } else if (link !== undefined) {
          if (row.options.isBridge) {
            await inside.link.del({ index: link.index });
          } else {
            await inside.link.set({ index: link.index }, { up: false });
            if (link.name !== row.srcName) await inside.link.set({ index: link.index }, { name: row.srcName });
            if (!row.options.createdInContainer) await inside.link.set({ index: link.index }, { netnsFd: host.netnsFd });
          }
        }
        ctx.records.update(rec.name, (c) => { c.interfaces = c.interfaces.filter((i) => i.srcName !== row.srcName); });
      } catch (err) {
        errors.push(`undo iface add of ${row.srcName}: ${(err as Error).message}`);
      }
    }
  } finally {
    inside.close();
    host.close();
  }
  return errors;
}
