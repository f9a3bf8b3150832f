/**
 * Layer: managed.
 *
 * Undo interface work a killed process left in state 'adding' (or finish a disconnect it left
 * 'removing': the same steps for a network's link): wherever the link got to
 * inside the sandbox (under its source or its new name), give it back to the host under its
 * source name (link-return), delete a bridge nsbox created, a veth pair's end born inside
 * (veth-pair.ts) or a network's link (with what it has outside the sandbox, and its addresses),
 * then drop the row.
 */
import { Rtnl } from '../netlink/route/ops/index.js';
import { returnLink } from '../sandbox/index.js';
import type { SandboxRecord } from '../store/index.js';
import type { StateRoot } from './root.js';

export async function undoInterruptedInterfaces(root: StateRoot, rec: SandboxRecord): Promise<string[]> {
  const pending = rec.config.interfaces.filter((i) => i.state === 'adding' || (i.state === 'removing' && i.network !== undefined));
  if (pending.length === 0) return [];
  const errors: string[] = [];
  const inside = Rtnl.open({ netns: rec.key });
  try {
    for (const row of pending) {
      try {
        const link = (await inside.link.find({ name: row.dstName })) ?? (await inside.link.find({ name: row.srcName }));
        if (row.network !== undefined) {
          // A network's link was made for the sandbox: delete it, and what it has outside, and the leases.
          if (link !== undefined) await inside.link.del({ index: link.index }).catch(() => undefined);
          await root.networks.releaseOutside(row.network, rec.key);
        } else if (link !== undefined) {
          // A bridge nsbox created, or one end of a veth pair born here (veth-pair.ts; the peer goes with it): deleted.
          if (row.options.isBridge || row.options.createdInContainer) await inside.link.del({ index: link.index });
          else {
            const failures = await returnLink(inside, link.index, { name: link.name, srcName: row.srcName, toHost: !row.options.createdInContainer });
            if (failures.length > 0) throw failures[0];
          }
        }
        root.records.update(rec.name, (c) => { c.interfaces = c.interfaces.filter((i) => i.srcName !== row.srcName); });
      } catch (err) {
        errors.push(`undo iface add of ${row.srcName}: ${(err as Error).message}`);
      }
    }
  } finally {
    inside.close();
  }
  return errors;
}
