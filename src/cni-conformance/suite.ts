/**
 * Layer: cni-conformance (process edge).
 *
 * One plugin's run, inside the private host (isolate.ts): VERSION first (which versions
 * apply), a warm-up ADD/DEL whose aftermath is the baseline every leak check compares to
 * (what a plugin keeps per network, such as its bridge, is made then), then the groups in
 * order, the kill matrix if asked, and a last check of the whole run: compared with the host
 * before anything ran, only bridges (with their addresses and routes) and nft rules that name
 * no container address or host veth may stay.
 */
import { performance } from 'node:perf_hooks';
import { basename } from 'node:path';
import { Context, detail, fail } from './context.js';
import { loadConfig } from './config.js';
import { diff } from './kernel.js';
import type { ExecOptions } from './exec.js';
import type { KillMatrix, PluginReport } from './report.js';
import { capabilityCases } from './cases/capabilities.js';
import { gcStatusCases } from './cases/gc-status.js';
import { killMatrix } from './cases/kill-matrix.js';
import { lifecycleCases } from './cases/lifecycle.js';
import { errorCases, errorVersionCase, versionCases } from './cases/protocol.js';
import { addNetns, delNetns, linksIn } from './kernel.js';

export interface SuiteOptions {
  plugin: string;
  config: string;
  cniPath: string;
  env: Record<string, string>;
  stateDirs: string[];
  stateIgnore: string;
  stateCmd: string | undefined;
  only: string | undefined;
  expectFail: string[];
  killMatrix: boolean;
  killSample: number | undefined;
  killMax: number;
  killSyscalls: string[];
  timeoutMs: number;
  workdir: string;
  verbose: boolean;
}

const sub = (s: string, workdir: string): string => s.replaceAll('$WORKDIR', workdir);

export function runSuite(o: SuiteOptions): PluginReport {
  const started = performance.now();
  const net = loadConfig(o.config, o.workdir);
  const env = Object.fromEntries(Object.entries(o.env).map(([k, v]) => [k, sub(v, o.workdir)]));
  const exec: ExecOptions = { plugin: o.plugin, cniPath: sub(o.cniPath, o.workdir), env, timeoutMs: o.timeoutMs };
  const log = (line: string): void => {
    if (o.verbose) process.stderr.write(`[${basename(o.plugin)}] ${line}\n`);
  };
  const ctx0 = new Context({ exec, net, supported: [], stateDirs: o.stateDirs.map((d) => sub(d, o.workdir)), stateIgnore: new RegExp(o.stateIgnore), stateCmd: o.stateCmd === undefined ? undefined : sub(o.stateCmd, o.workdir), only: o.only === undefined ? undefined : new RegExp(o.only), expectFail: new Set(o.expectFail), log });
  const v = ctx0.call({ command: 'VERSION', netns: 'dummy', ifname: 'dummy', stdin: JSON.stringify({ cniVersion: net.cniVersion }) });
  const supported = Array.isArray(v.json?.supportedVersions) ? (v.json.supportedVersions as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  const ctx = new Context({ ...ctx0.o, supported });
  const initial = ctx.hostSnapshot();
  versionCases(ctx);
  // Warm-up: the network's own state (a bridge, tables) is made here and stays; the baseline is after it.
  const warm = ctx.attach();
  const warmDel = ctx.del(warm);
  ctx.dropNetns(warm);
  const address = warm.address;
  if (warm.add.status === 0 && warmDel.status === 0) ctx.baseline = ctx.hostSnapshot();
  ctx.case({ id: 'WARMUP', group: 'add', title: 'a first ADD and DEL succeed (the baseline for every leak check is taken after them)' }, () => {
    if (warm.add.status !== 0) fail(`ADD ${detail(warm.add)}`);
    if (warmDel.status !== 0) fail(`DEL ${detail(warmDel)}`);
  });
  const errNs = 'cerr';
  const errNetns = addNetns(errNs);
  errorCases(ctx, errNetns);
  delNetns(errNs);
  lifecycleCases(ctx);
  gcStatusCases(ctx);
  capabilityCases(ctx, address);
  errorVersionCase(ctx);
  let matrix: KillMatrix | undefined;
  if (o.killMatrix && address !== undefined && ctx.selected('KILL')) {
    matrix = killMatrix(ctx, { syscalls: o.killSyscalls, sample: o.killSample, max: o.killMax, address, workdir: o.workdir });
    ctx.case({ id: 'KILL-MATRIX', group: 'kill-matrix', title: 'after a SIGKILL at each state-changing syscall of ADD: DEL succeeds, nothing is left, the address is allocatable again' }, () => {
      if (matrix!.failed > 0) fail(`${matrix!.failed} of ${matrix!.ran} kill points failed (first: ${matrix!.points.find((p) => !p.ok)!.syscall} N=${matrix!.points.find((p) => !p.ok)!.n}: ${matrix!.points.find((p) => !p.ok)!.problems.join('; ')})`);
      return { reason: `${matrix!.ran} kill points` };
    });
  }
  const final = ctx.hostSnapshot();
  const bridges = new Set(linksIn().filter((l) => l.kind === 'bridge').map((l) => l.ifname));
  const kept: string[] = [];
  const leaked: string[] = [];
  const names = [...ctx.seenAddresses, ...[...ctx.seenHostLinks].filter((n) => !bridges.has(n))];
  for (const d of diff(initial, final)) {
    const allowed = d.startsWith('links +') ? bridges.has(d.slice(7).split(' ')[0]!)
      : d.startsWith('addresses +') || d.startsWith('routes +') ? [...bridges].some((b) => d.endsWith(` dev ${b}`) || d.includes(` dev ${b} `))
        : d.startsWith('nft +') ? !names.some((n) => new RegExp(`(^|[^0-9a-z.])${n.replaceAll('.', '\\.')}([^0-9a-z]|$)`).test(d.slice(5))) : false;
    (allowed ? kept : leaked).push(d);
  }
  ctx.case({ id: 'RUN-LEFTOVERS', group: 'run', title: 'after the whole run the host is as before, but for bridges and nft rules naming no container' }, () => {
    if (leaked.length > 0) fail(`left: ${leaked.slice(0, 12).join(', ')}${leaked.length > 12 ? ` … (${leaked.length})` : ''}`);
    return { reason: kept.length === 0 ? '' : `${kept.length} network-level lines kept` };
  });
  const nftKept = kept.filter((d) => d.startsWith('nft +')).length;
  const networkLeftovers = [...kept.filter((d) => !d.startsWith('nft +')), ...(nftKept === 0 ? [] : [`nft: ${nftKept} ruleset lines naming no container`])];
  return { plugin: o.plugin, config: o.config, cniVersion: net.cniVersion, supportedVersions: supported, cases: ctx.outcomes, ...(matrix === undefined ? {} : { killMatrix: matrix }), networkLeftovers, seconds: (performance.now() - started) / 1000 };
}
