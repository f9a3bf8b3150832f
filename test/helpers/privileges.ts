/**
 * Test helper: the one way a test may skip for want of a kernel feature. The runner turns
 * its own skip (no root) into a failure under NSBOX_REQUIRE_PRIVILEGED=1 (CI); this does the
 * same for a test that finds a feature missing. Under NSBOX_REQUIRE_PRIVILEGED=1 the test is
 * skipped only if the gap is a known one, listed for the running kernel with the reason in
 * test/kernel-gaps.json; otherwise it fails. Without it, a missing feature is a skip.
 *
 *   if (skipIfMissing(t, 'ipvlan', ipvlanMissing())) return;
 *
 * No addon and no root needed here: the decision is unit-tested (test/unit/helpers).
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root.js';

/** The kernel features (and the tools of the oracles and clients) tests may find missing, and what each means. */
export const FEATURES = {
  ipvlan: 'ipvlan links (CONFIG_IPVLAN)',
  ip_vs: 'IPVS, the load balancer with the /proc/sys/net/ipv4/vs knobs (CONFIG_IP_VS)',
  'procfs-instance': 'private procfs instances (fsopen("proc") + fsmount) for sandbox sysctls',
  nft: 'nft, the nf_tables tests\' oracle (Debian package nftables, installed by scripts/setup.sh)',
  podman: 'podman with crun and conmon, and busybox-static for the rootfs (Debian packages podman, crun, conmon, busybox-static, installed by scripts/setup.sh)',
  libcni: 'Go and the libcni sources the libcni driver is built against (Debian packages golang-go, golang-github-appc-cni-dev, installed by scripts/setup.sh)',
  chromium: 'Chromium, the headless browser the lab graph page is checked in (Debian package chromium, installed by scripts/setup.sh)',
  graphviz: 'Graphviz\'s dot, the oracle of the lab graph\'s DOT output (Debian package graphviz, installed by scripts/setup.sh)',
  'cni-plugins': 'the reference CNI plugins in /usr/lib/cni and busybox (Debian packages containernetworking-plugins and busybox-static, installed by scripts/setup.sh)',
} as const;

export type Feature = keyof typeof FEATURES;

export interface KernelGap {
  feature: Feature;
  /** Prefixes of os.release() the gap is known for. */
  kernels: string[];
  why: string;
}

export const KERNEL_GAPS_FILE = 'test/kernel-gaps.json';

/** test/kernel-gaps.json, checked: every entry names a known feature, its kernels and why. */
export function loadKernelGaps(file = join(packageRoot(), KERNEL_GAPS_FILE)): KernelGap[] {
  const data = JSON.parse(readFileSync(file, 'utf8')) as { gaps?: unknown };
  if (!Array.isArray(data.gaps)) throw new Error(`${file}: expected { "gaps": [...] }`);
  return data.gaps.map((g: Partial<KernelGap>, i) => {
    const where = `${file}: gaps[${i}]`;
    if (typeof g.feature !== 'string' || !Object.hasOwn(FEATURES, g.feature)) {
      throw new Error(`${where}: unknown feature ${JSON.stringify(g.feature)} (known: ${Object.keys(FEATURES).join(', ')})`);
    }
    if (!Array.isArray(g.kernels) || g.kernels.length === 0 || !g.kernels.every((k) => typeof k === 'string' && k !== '')) {
      throw new Error(`${where}: "kernels" must list os.release() prefixes`);
    }
    if (typeof g.why !== 'string' || g.why.trim() === '') throw new Error(`${where}: "why" must say why the feature is missing`);
    return { feature: g.feature, kernels: g.kernels, why: g.why };
  });
}

export type SkipDecision =
  | { action: 'run' }
  | { action: 'skip'; reason: string }
  | { action: 'fail'; reason: string };

export interface SkipContext {
  /** NSBOX_REQUIRE_PRIVILEGED=1: no skip but a known gap. */
  required: boolean;
  /** os.release() */
  kernel: string;
  gaps: readonly KernelGap[];
}

/**
 * What a test does when `feature` is `missing` (a sentence saying what failed; undefined when
 * the feature is there): run; skip (a known gap of this kernel, or skips are allowed); fail.
 */
export function decideSkip(feature: Feature, missing: string | undefined, ctx: SkipContext): SkipDecision {
  if (missing === undefined) return { action: 'run' };
  const gap = ctx.gaps.find((g) => g.feature === feature && g.kernels.some((k) => ctx.kernel.startsWith(k)));
  if (gap !== undefined) return { action: 'skip', reason: `${FEATURES[feature]} missing: ${gap.why} (a known gap of kernel ${ctx.kernel}, ${KERNEL_GAPS_FILE})` };
  if (!ctx.required) return { action: 'skip', reason: `${FEATURES[feature]} missing here: ${missing}` };
  return {
    action: 'fail',
    reason: `${FEATURES[feature]} missing here (${missing}), and ${KERNEL_GAPS_FILE} lists no such gap for kernel ${ctx.kernel}: ` +
      'NSBOX_REQUIRE_PRIVILEGED=1 forbids skipping (give the kernel the feature, or list the gap with the evidence for it)',
  };
}

let gaps: KernelGap[] | undefined;

/**
 * Call at the top of a test that needs `feature`, with what the probe found missing (or
 * undefined). Returns true when the test was skipped and must return; fails the test when a
 * skip is not allowed (decideSkip); false when the feature is there.
 */
export function skipIfMissing(t: TestContext, feature: Feature, missing: string | undefined): boolean {
  gaps ??= loadKernelGaps();
  const decision = decideSkip(feature, missing, { required: process.env.NSBOX_REQUIRE_PRIVILEGED === '1', kernel: release(), gaps });
  if (decision.action === 'run') return false;
  if (decision.action === 'fail') assert.fail(decision.reason);
  t.skip(decision.reason);
  return true;
}
