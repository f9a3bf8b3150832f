/**
 * Layer: netlink/route/ops — rtnetlink operations.
 *
 * The packet scheduler's clock, read once from /proc/net/psched as tc reads it (the tick
 * conversions of tbf and htb depend on it; schema/tc-rate.ts). The file is the same in every
 * namespace. Unreadable (no procfs): the value every current kernel reports.
 */
import { readFileSync } from 'node:fs';
import { KERNEL_PSCHED, type PschedClock, parsePsched } from '../schema/tc-rate.js';

let cached: PschedClock | undefined;

export function pschedClock(): PschedClock {
  if (cached === undefined) {
    try {
      cached = parsePsched(readFileSync('/proc/net/psched', 'utf8'));
    } catch {
      cached = KERNEL_PSCHED;
    }
  }
  return cached;
}
