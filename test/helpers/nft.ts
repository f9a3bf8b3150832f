/**
 * Test helper: nft (Debian's nftables package) as the oracle for nf_tables, run inside a test
 * namespace (`ip netns exec NAME nft …`), so tests check what the kernel holds without going
 * through nsbox's own decoder; and the research oracle of §4.6 (test/fixtures/nftables/).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root.js';

/** `nft args…` in namespace `ns`; stdout, or throws with stderr. */
export function nft(ns: string, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'nft', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `nft -f FILE` in namespace `ns`. */
export function nftFile(ns: string, file: string): void {
  nft(ns, '-f', file);
}

/** Whether nft is installed (scripts/setup.sh installs it). */
export function nftMissing(): string | undefined {
  const res = spawnSync('nft', ['--version'], { encoding: 'utf8' });
  return res.status === 0 ? undefined : 'nft (Debian package nftables) is not installed; scripts/setup.sh installs it';
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * `nft -j list ruleset` items, normalised for comparison: no handles (the kernel numbers
 * them), and element lists in a stable order (a hash set's order is the kernel's).
 */
export function normalisedRuleset(json: string): Json[] {
  const items = (JSON.parse(json) as { nftables: Json[] }).nftables;
  const strip = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(strip);
    if (v === null || typeof v !== 'object') return v;
    const out: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'handle') continue;
      out[k] = k === 'elem' && Array.isArray(x) ? x.map(strip).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : strip(x);
    }
    return out;
  };
  return items.map(strip);
}

/** `nft -j list ruleset` in `ns`, normalised. */
export function listRuleset(ns: string): Json[] {
  return normalisedRuleset(nft(ns, '-j', 'list', 'ruleset'));
}

/** A file of test/fixtures/nftables. */
export function nftFixture(name: string): string {
  return join(packageRoot(), 'test', 'fixtures', 'nftables', name);
}

/** The oracle of research/nat-nftables.md §4.6: `nft -j list ruleset` of nsbox.nft + nsbox-elements.nft, normalised. */
export function researchOracle(): Json[] {
  return normalisedRuleset(readFileSync(nftFixture('nsbox-oracle.json'), 'utf8'));
}
