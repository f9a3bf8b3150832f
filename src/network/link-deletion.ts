/**
 * Layer: network.
 *
 * Deleting links without holding anyone up. The kernel answers an RTM_DELLINK only after
 * `netdev_run_todo`'s RCU barrier (~10–25 ms here), but takes the link out of its namespace
 * (no name, no index, no longer a bridge port) within ~0.3–4 ms. So a deletion is sent on
 * libuv's thread pool (the event loop goes on: an agent serves other calls meanwhile), and a
 * caller that only needs the link gone from view stops waiting once it is unlisted, leaving
 * the barrier to the pool thread (a process that exits meanwhile waits for it beside its
 * other work).
 */
import { NetlinkError } from '../errors.js';
import type { Rtnl } from '../netlink/route/ops/index.js';

/** Delete a link by name and wait for the kernel's answer; one already gone (ENODEV) is success. */
export async function deleteLink(rtnl: Rtnl, name: string): Promise<void> {
  try {
    await rtnl.link.del({ name }, { background: true });
  } catch (err) {
    if (!(err instanceof NetlinkError && err.code === 'ENODEV')) throw err;
  }
}

/**
 * Delete links by name and return once the kernel has unlisted them, not once it has answered.
 * Already gone is success. Returns what failed, each as `NAME: why` or `NAME is still there`: a
 * deletion the kernel refused (not waited for further), or a link still there after `timeoutMs`.
 */
export async function deleteLinksUnlisted(rtnl: Rtnl, names: readonly string[], timeoutMs = 5000): Promise<string[]> {
  const refused = new Map<string, string>();
  for (const name of names) {
    deleteLink(rtnl, name).catch((err: Error) => { refused.set(name, err.message); });
  }
  const left = await waitLinksGone(rtnl, names, timeoutMs, 1, refused);
  return [...[...refused].map(([name, why]) => `${name}: ${why}`), ...left.map((name) => `${name} is still there`)];
}

/**
 * Wait until none of `names` is a link of `rtnl`'s namespace (or is in `abandoned`), polling
 * every `pollMs`; returns those still there at the deadline.
 */
export async function waitLinksGone(rtnl: Rtnl, names: readonly string[], timeoutMs: number, pollMs: number, abandoned: ReadonlyMap<string, unknown> = new Map()): Promise<string[]> {
  let left = [...names];
  const deadline = Date.now() + timeoutMs;
  while (left.length > 0) {
    left = left.filter((n) => !abandoned.has(n));
    if (left.length === 0) break;
    if (left.length > 16) {
      // Many (a batch of removed sandboxes): one dump of the links instead of a request each.
      const there = new Set((await rtnl.link.list()).map((l) => l.name));
      left = left.filter((n) => there.has(n));
    } else {
      const present = await Promise.all(left.map((n) => rtnl.link.find({ name: n })));
      left = left.filter((_, i) => present[i] !== undefined);
    }
    if (left.length === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return left;
}
