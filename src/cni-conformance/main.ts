/**
 * Layer: cni-conformance (process edge): `nsbox-cni-conformance`, a black-box conformance
 * suite for any CNI plugin binary (docs/cni.md "Conformance").
 *
 *   nsbox-cni-conformance --plugin PATH --config FILE [--reference PATH [--reference-config FILE]]
 *       [--cni-path DIRS] [--env K=V]… [--state-dir DIR]… [--state-cmd CMD] [--kill-matrix
 *       [--kill-sample N] [--kill-max N] [--kill-syscalls LIST]] [--json] [--only REGEX]
 *       [--expect-fail ID[,ID…]]… [--timeout SECONDS] [--verbose]
 *
 * It runs the plugin as a runtime does (exec, CNI_* environment, config on stdin) inside a
 * private host it makes itself for each plugin (isolate.ts), and prints a report: each case
 * pass, fail or skip with its reason, the kill matrix's counts, and with --reference the
 * cases where the two plugins behave differently. Exit 1 when a case of the plugin under test
 * failed that --expect-fail does not list (the reference's failures are reported, never
 * counted), 2 on bad usage. It imports nothing of nsbox but the pure address helpers (net/).
 */
import { basename, dirname, resolve } from 'node:path';
import { KILL_SYSCALLS } from './cases/kill-matrix.js';
import { enterPrivateHost, privilegeProblem, runIsolated, WORKDIR } from './isolate.js';
import { reportText, type Difference, type PluginReport, type Report } from './report.js';
import { runSuite, type SuiteOptions } from './suite.js';

const USAGE = `usage: nsbox-cni-conformance --plugin PATH --config FILE [options]   (as root)
  --plugin PATH            the plugin binary under test
  --config FILE            its network config (a conflist: the first plugin is tested; or one plugin object);
                           $WORKDIR in it is the run's private work directory (a tmpfs)
  --reference PATH         also run the reference plugin and report where the two differ
  --reference-config FILE  the reference's config (default: --config with "type" set to the reference's name)
  --cni-path DIRS          CNI_PATH for the plugin (default: its directory, /usr/lib/cni, /opt/cni/bin)
  --env K=V                an environment variable for the plugin (repeatable; the rest is scrubbed)
  --reference-env K=V      the same for the reference
  --state-dir DIR          a directory of the plugin's state whose files must be as before after DEL (repeatable)
  --state-ignore REGEX     files there that may change (default: lock and last_reserved_ip.N files)
  --state-cmd CMD          a shell command printing the plugin's state, compared like the files
  --kill-matrix            SIGKILL the ADD at each state-changing syscall (strace), then DEL: nothing may leak
  --kill-sample N          only N evenly spaced kill points
  --kill-max N             at most N kill points (default 400)
  --kill-syscalls LIST     the syscalls to kill at (default: ${KILL_SYSCALLS.join(',')})
  --only REGEX             only the cases whose id matches
  --expect-fail ID[,ID]    cases known to fail: reported as XFAIL, not failing the run (repeatable)
  --json                   the report as JSON on stdout
  --timeout SECONDS        per plugin call (default 60)
  --verbose                each case's outcome on stderr as it runs`;

interface Args {
  suite: Omit<SuiteOptions, 'workdir' | 'verbose'>;
  reference: Omit<SuiteOptions, 'workdir' | 'verbose'> | undefined;
  json: boolean;
  verbose: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Args {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const FLAGS = ['--kill-matrix', '--json', '--verbose', '--help'];
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i]!;
    if (FLAGS.includes(a)) {
      flags.add(a);
      continue;
    }
    const eq = a.indexOf('=');
    const [key, value] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, argv[++i]];
    if (!key.startsWith('--') || value === undefined) throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  if (flags.has('--help')) throw new UsageError('');
  const known = ['--plugin', '--config', '--reference', '--reference-config', '--cni-path', '--env', '--reference-env', '--state-dir', '--reference-state-dir', '--state-ignore', '--state-cmd', '--reference-state-cmd', '--kill-sample', '--kill-max', '--kill-syscalls', '--only', '--expect-fail', '--timeout'];
  for (const k of values.keys()) if (!known.includes(k)) throw new UsageError(`unknown option ${k}`);
  const one = (k: string): string | undefined => values.get(k)?.at(-1);
  const num = (k: string, dflt?: number): number | undefined => {
    const v = one(k);
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${k} wants a positive integer, not ${v}`);
    return Number(v);
  };
  const envOf = (k: string): Record<string, string> => Object.fromEntries((values.get(k) ?? []).map((p) => {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`${k} wants KEY=VALUE, not ${p}`);
    return [p.slice(0, i), p.slice(i + 1)];
  }));
  const plugin = one('--plugin');
  const config = one('--config');
  if (plugin === undefined || config === undefined) throw new UsageError('--plugin and --config are required');
  for (const p of [plugin, config, one('--reference') ?? '/', one('--reference-config') ?? '/']) {
    const abs = resolve(p);
    if (abs.startsWith('/run/') || abs.startsWith('/var/lib/') || abs.startsWith('/sys/')) throw new UsageError(`${p}: under /run, /var/lib or /sys, which the private host hides`);
  }
  const common = {
    stateIgnore: one('--state-ignore') ?? '(^|/)(lock|last_reserved_ip\\.\\d+)$',
    only: one('--only'),
    expectFail: (values.get('--expect-fail') ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== ''),
    killMatrix: flags.has('--kill-matrix'),
    killSample: num('--kill-sample'),
    killMax: num('--kill-max', 400)!,
    killSyscalls: one('--kill-syscalls')?.split(',') ?? KILL_SYSCALLS,
    timeoutMs: num('--timeout', 60)! * 1000,
  };
  const cniPathFor = (p: string): string => one('--cni-path') ?? [dirname(resolve(p)), '/usr/lib/cni', '/opt/cni/bin'].join(':');
  const suite = { ...common, plugin: resolve(plugin), config: resolve(config), cniPath: cniPathFor(plugin), env: envOf('--env'), stateDirs: values.get('--state-dir') ?? [], stateCmd: one('--state-cmd') };
  const refPath = one('--reference');
  const reference = refPath === undefined ? undefined : {
    ...common, expectFail: [], plugin: resolve(refPath), config: resolve(one('--reference-config') ?? config), cniPath: cniPathFor(refPath), env: envOf('--reference-env'),
    stateDirs: values.get('--reference-state-dir') ?? [], stateCmd: one('--reference-state-cmd'), retype: one('--reference-config') === undefined ? basename(refPath) : undefined,
  };
  return { suite, reference, json: flags.has('--json'), verbose: flags.has('--verbose') };
}

/** Differences between the two runs, case by case: status and fingerprint. */
function differences(a: PluginReport, b: PluginReport): Difference[] {
  const out: Difference[] = [];
  const byId = new Map(b.cases.map((c) => [c.id, c]));
  const say = (c: { status: string; observed?: string } | undefined): string => (c === undefined ? 'not run' : `${c.status}${c.observed === undefined ? '' : ` [${c.observed}]`}`);
  for (const c of a.cases) {
    const r = byId.get(c.id);
    byId.delete(c.id);
    if (r === undefined || r.status !== c.status || r.observed !== c.observed) out.push({ id: c.id, plugin: say(c), reference: say(r) });
  }
  for (const r of byId.values()) out.push({ id: r.id, plugin: 'not run', reference: say(r) });
  return out;
}

/** One plugin's run in its own private host. */
function runOne(self: string, opts: Omit<SuiteOptions, 'workdir' | 'verbose'> & { retype?: string | undefined }, verbose: boolean): PluginReport {
  const spec = Buffer.from(JSON.stringify({ ...opts, verbose })).toString('base64');
  const res = runIsolated(self, ['--inside', spec]);
  if (res.status !== 0) throw new Error(`the run of ${opts.plugin} failed (exit ${res.status})`);
  return JSON.parse(res.stdout) as PluginReport;
}

/** Inside the private host: run the suite and print its report as JSON. */
async function inside(spec: string): Promise<number> {
  enterPrivateHost();
  const o = JSON.parse(Buffer.from(spec, 'base64').toString('utf8')) as SuiteOptions & { retype?: string };
  let config = o.config;
  if (o.retype !== undefined) {
    // The reference with the plugin's config: the same file, "type" swapped.
    const { readFileSync, writeFileSync } = await import('node:fs');
    const raw = JSON.parse(readFileSync(o.config, 'utf8')) as { plugins?: Record<string, unknown>[]; type?: string };
    if (Array.isArray(raw.plugins) && raw.plugins[0] !== undefined) raw.plugins[0].type = o.retype;
    else raw.type = o.retype;
    config = `${WORKDIR}/reference-config.json`;
    writeFileSync(config, JSON.stringify(raw));
  }
  const report = runSuite({ ...o, config, workdir: WORKDIR });
  report.config = o.config;
  process.stdout.write(`${JSON.stringify(report)}\n`);
  return 0;
}

export async function main(argv: string[], self: string): Promise<number> {
  if (argv[0] === '--inside' && argv[1] !== undefined) return inside(argv[1]);
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message === '' ? '' : `nsbox-cni-conformance: ${err.message}\n`}${USAGE}\n`);
    return err.message === '' ? 0 : 2;
  }
  const problem = privilegeProblem();
  if (problem !== undefined) {
    process.stderr.write(`nsbox-cni-conformance: ${problem}\n`);
    return 2;
  }
  const plugin = runOne(self, args.suite, args.verbose);
  const reference = args.reference === undefined ? undefined : runOne(self, args.reference, args.verbose);
  const failures = plugin.cases.filter((c) => c.status === 'fail' && c.expected !== true).length;
  const report: Report = { plugin, ...(reference === undefined ? {} : { reference, differences: differences(plugin, reference) }), failures };
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : reportText(report));
  return failures > 0 ? 1 : 0;
}
