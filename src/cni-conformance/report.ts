/**
 * Layer: cni-conformance (a process edge: the black-box CNI conformance suite, docs/cni.md
 * "Conformance").
 *
 * What a run produces: one outcome per case (pass, fail, skip, each with its reason), the
 * kill matrix's counts, and the differences between two plugins in differential mode; and
 * the two ways of printing it, for a person and as JSON.
 */

export type Status = 'pass' | 'fail' | 'skip';

/** How binding the rule a case checks is (SPEC wording); every failed case fails the run. */
export type Level = 'MUST' | 'SHOULD' | 'INFO';

export interface CaseOutcome {
  /** Stable id, e.g. `E-ENV-ADD-CNI_NETNS`: what `--only` and `--expect-fail` name. */
  id: string;
  group: string;
  title: string;
  level: Level;
  status: Status;
  /** Why it failed or was skipped; what was seen when it passed (short). */
  reason: string;
  /** A small normalized fingerprint of what the plugin did (exit code, error code, result shape), compared in differential mode. */
  observed?: string;
  /** Listed in --expect-fail and failed (does not fail the run). */
  expected?: boolean;
}

export interface KillPoint {
  /** The syscall the SIGKILL was injected at, and at which of its invocations (per thread). */
  syscall: string;
  n: number;
  /** Whether the SIGKILL was injected (false: the ADD ran to its end but something failed). */
  killed: boolean;
  /** The call killed, from strace's log (arguments cut). */
  at: string;
  ok: boolean;
  /** What went wrong after the kill: DEL failed, what leaked, the next ADD failed. */
  problems: string[];
}

export interface KillMatrix {
  syscalls: string[];
  /** The kill points of the whole matrix (the ADD was killed at each), or undefined when it was sampled or cut. */
  total?: number;
  ran: number;
  passed: number;
  failed: number;
  points: KillPoint[];
}

export interface PluginReport {
  plugin: string;
  config: string;
  cniVersion: string;
  supportedVersions: string[];
  cases: CaseOutcome[];
  killMatrix?: KillMatrix;
  /** What the plugin keeps per network after everything was deleted (bridges, nft tables): informational. */
  networkLeftovers: string[];
  seconds: number;
}

export interface Difference {
  id: string;
  plugin: string;
  reference: string;
}

export interface Report {
  plugin: PluginReport;
  reference?: PluginReport;
  differences?: Difference[];
  /** Unexpected failures of the plugin under test (the exit code is 1 when any). */
  failures: number;
}

/** Counts of a plugin's cases by status. */
export function counts(report: PluginReport): { pass: number; fail: number; skip: number; expected: number } {
  const c = { pass: 0, fail: 0, skip: 0, expected: 0 };
  for (const k of report.cases) {
    if (k.status === 'fail' && k.expected === true) c.expected += 1;
    else c[k.status] += 1;
  }
  return c;
}

function pluginText(r: PluginReport, title: string): string[] {
  const lines = [`${title}: ${r.plugin} (config ${r.config}, cniVersion ${r.cniVersion}; VERSION says ${r.supportedVersions.join(', ')})`];
  let group = '';
  for (const k of r.cases) {
    if (k.group !== group) {
      group = k.group;
      lines.push(`  [${group}]`);
    }
    const mark = k.status === 'fail' ? (k.expected === true ? 'XFAIL' : 'FAIL ') : k.status === 'pass' ? 'pass ' : 'skip ';
    lines.push(`  ${mark} ${k.id} (${k.level}) ${k.title}${k.reason === '' ? '' : ` — ${k.reason}`}`);
  }
  const m = r.killMatrix;
  if (m !== undefined) {
    lines.push(`  [kill matrix] SIGKILL at ${m.syscalls.join(',')}: ${m.ran} kill points run${m.total === undefined ? ' (sampled)' : ` (of ${m.total})`}, ${m.passed} passed, ${m.failed} failed`);
    const per = new Map<string, number>();
    for (const p of m.points.filter((x) => x.killed)) per.set(p.syscall, (per.get(p.syscall) ?? 0) + 1);
    lines.push(`    points per syscall: ${[...per].map(([s, n]) => `${s} ${n}`).join(', ')}`);
    for (const p of m.points.filter((x) => !x.ok)) lines.push(`    ${p.syscall} N=${p.n} at ${p.at}: ${p.problems.join('; ')}`);
  }
  if (r.networkLeftovers.length > 0) lines.push(`  kept per network (allowed): ${r.networkLeftovers.join('; ')}`);
  const c = counts(r);
  lines.push(`  ${c.pass} passed, ${c.fail} failed, ${c.skip} skipped, ${c.expected} expected failures (${r.seconds.toFixed(1)} s)`);
  return lines;
}

export function reportText(report: Report): string {
  const lines = pluginText(report.plugin, 'plugin');
  if (report.reference !== undefined) lines.push('', ...pluginText(report.reference, 'reference'));
  if (report.differences !== undefined) {
    lines.push('', `differences (plugin vs reference): ${report.differences.length}`);
    for (const d of report.differences) lines.push(`  ${d.id}: ${d.plugin}  <>  ${d.reference}`);
  }
  const c = counts(report.plugin);
  lines.push('', `${c.pass} passed, ${c.fail} failed`);
  return `${lines.join('\n')}\n`;
}
