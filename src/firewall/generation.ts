/**
 * Layer: firewall.
 *
 * A read-diff-write of nf_tables, retried when another process commits in between: `fn` reads
 * the ruleset at the current generation and commits a transaction pinned to it, which the kernel
 * refuses (GenerationChangedError) if the ruleset changed meanwhile; then it runs again, a few
 * times at most.
 */
import { GenerationChangedError } from '../errors.js';
import type { Nft } from '../netlink/nftables/ops/index.js';

/** How many times a read-diff-write is tried when other processes keep committing in between. */
const GENERATION_RETRIES = 5;

export async function withGeneration<T>(nft: Nft, fn: (genid: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const { id } = await nft.generation();
    try {
      return await fn(id);
    } catch (err) {
      if (!(err instanceof GenerationChangedError) || attempt >= GENERATION_RETRIES) throw err;
    }
  }
}
