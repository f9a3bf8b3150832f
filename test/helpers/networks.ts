/**
 * Test helper for tests of networks (the CLI's and the Networks library's): names whose
 * bridge fits, subnets no other test of the process uses, a ping from the host, and a small
 * worker pool for parallel runs.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';

/** A network name whose bridge (nsbr-<name>) fits in 15 bytes. */
export function networkName(): string {
  return `nt${randomBytes(3).toString('hex')}`;
}

const usedSubnets = new Set<string>();

/** A /24 in 172.16.0.0/12 that no other test of this process got: `{ cidr, base }` (base: 'a.b.c.'). */
export function uniqueSubnet(): { cidr: string; base: string } {
  for (;;) {
    const base = `172.${randomInt(16, 32)}.${randomInt(0, 256)}.`;
    if (usedSubnets.has(base)) continue;
    usedSubnets.add(base);
    return { cidr: `${base}0/24`, base };
  }
}

/** `ping -c 1 -W 2 ADDRESS` from the throwaway host. */
export function hostPing(address: string): { ok: boolean; out: string } {
  const res = spawnSync('ping', ['-c', '1', '-W', '2', address], { encoding: 'utf8' });
  return { ok: res.status === 0, out: `${res.stdout}${res.stderr}` };
}

/** Run `fn` on every item, at most `limit` at a time; results in item order. */
export async function inPool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
