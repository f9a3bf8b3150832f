/**
 * Layer: lab (pure).
 *
 * The randomness of a delay queue (delay-queue.ts), replayable: counter-based, so the n-th
 * packet's draws depend only on the seed, the stream and n, never on what happened before
 * (a packet the kernel dropped before we saw it shifts n, nothing else). Each draw is Chris
 * Wellons' lowbias32 integer hash (a 32-bit avalanche mixer: xorshift-multiply, three rounds)
 * applied twice, over (seed, stream) and then n: `u = lowbias32(lowbias32(seed ^ STREAM[s]) ^ n)
 * / 2^32`, uniform in [0, 1). Without a seed, one is drawn from node:crypto and reported, so
 * any run can be replayed.
 */
import { randomInt } from 'node:crypto';

/** The independent draws of each packet. */
export const STREAM = { loss: 0x6c6f7373, jitter: 0x6a697474 } as const;
export type Stream = keyof typeof STREAM;

/** lowbias32 (github.com/skeeto/hash-prospector): a 32-bit integer hash with low bias. */
export function lowbias32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return x;
}

/** The n-th packet's draw of `stream` under `seed`, uniform in [0, 1). */
export function packetDraw(seed: number, stream: Stream, n: number): number {
  return lowbias32(lowbias32((seed ^ STREAM[stream]) >>> 0) ^ (n >>> 0)) / 0x1_0000_0000;
}

/** A seed: the caller's (an integer 0 to 2^32 - 1), else a random one. RangeError for anything else. */
export function checkSeed(seed: number | undefined): number {
  if (seed === undefined) return randomInt(0, 0xffffffff);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer from 0 to 4294967295, got ${String(seed)}`);
  return seed;
}
