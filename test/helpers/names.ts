/**
 * Test helper: random names. Everything a test makes in the kernel or under /run carries the
 * `nsbt` prefix and a random part, so parallel files never collide and leak checks can tell
 * test objects from the host's own.
 */
import { randomBytes } from 'node:crypto';

/** The prefix of test namespaces in /run/netns (and of sandbox names). */
export const TEST_PREFIX = 'nsbt-';

/** A random name `<prefix><8 hex>`: namespaces, sandboxes (also their /run/netns name), roots. */
export function randomName(prefix = TEST_PREFIX): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}
