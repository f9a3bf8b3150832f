/**
 * Layer: cni-conformance (process edge).
 *
 * Protocol oracles, no kernel state involved: VERSION (shape, the config's version listed,
 * the input's version echoed, old inputs), and the error answers the spec defines for bad
 * input: a missing environment variable per command (4, naming it), an unknown or unset
 * command, bad names (4), undecodable stdin (6), no network name (7), versions the plugin
 * does not speak or a command its version does not have (1), a namespace that does not
 * exist (an error and no side effects); each error is checked for its shape (exit 1, one
 * JSON object with code and msg) and, together at the end, for `cniVersion` (§5 lists it).
 */
import { KNOWN_VERSIONS, atLeast } from '../config.js';
import { describe, detail, fail, skip, type Context } from '../context.js';
import { diff } from '../kernel.js';
import { checkErrorShape, checkVersionShape } from '../schema.js';
import type { Call, Outcome } from '../exec.js';

const G_VERSION = 'version';
const G_ERRORS = 'errors';

function version(ctx: Context, stdin: string): Outcome {
  // libcni's GetVersionInfo sets these so that old skels accept VERSION.
  return ctx.call({ command: 'VERSION', containerId: '', netns: 'dummy', ifname: 'dummy', stdin });
}

export function versionCases(ctx: Context): void {
  ctx.case({ id: 'V-SHAPE', group: G_VERSION, title: 'VERSION answers exit 0 and {cniVersion, supportedVersions}' }, () => {
    const o = version(ctx, JSON.stringify({ cniVersion: ctx.version }));
    if (o.status !== 0) fail(detail(o));
    const problems = checkVersionShape(o.json);
    if (problems.length > 0) fail(problems.join('; '));
    return { observed: 'exit 0' };
  });
  ctx.case({ id: 'V-LISTS-CONFIG', group: G_VERSION, title: "supportedVersions includes the config's cniVersion" }, () => {
    if (!ctx.supports(ctx.version)) fail(`${ctx.version} not in ${ctx.o.supported.join(', ')}`);
  });
  ctx.case({ id: 'V-ECHO', group: G_VERSION, level: 'SHOULD', title: "VERSION's cniVersion is the input's (SPEC §5 'Version'), for each supported version" }, () => {
    const wrong: string[] = [];
    for (const v of ctx.o.supported) {
      const o = version(ctx, JSON.stringify({ cniVersion: v }));
      if (o.json?.cniVersion !== v) wrong.push(`${v} -> ${JSON.stringify(o.json?.cniVersion)}`);
    }
    if (wrong.length > 0) fail(wrong.join(', '), 'no echo');
    return { observed: 'echo' };
  });
  ctx.case({ id: 'V-OLD-INPUT', group: G_VERSION, title: 'VERSION with an old input (0.1.0, no cniVersion) still answers its list' }, () => {
    for (const stdin of [JSON.stringify({ cniVersion: '0.1.0' }), '{}']) {
      const o = version(ctx, stdin);
      if (o.status !== 0) fail(`${stdin}: ${detail(o)}`);
      const problems = checkVersionShape(o.json);
      if (problems.length > 0) fail(`${stdin}: ${problems.join('; ')}`);
    }
  });
}

/** An error case: the call must fail with `code` (or one of `codes`) and a well-formed error object. */
function errorCase(ctx: Context, id: string, title: string, call: Call, codes: number[], opts: { names?: string; level?: 'MUST' | 'SHOULD' } = {}): void {
  ctx.case({ id, group: G_ERRORS, title, level: opts.level ?? 'MUST' }, () => {
    const o = ctx.call(call);
    if (o.json !== undefined && o.status !== 0) ctx.errors.push({ id, json: o.json });
    const problems = checkErrorShape(o.status, o.json, o.stdout);
    if (problems.length > 0) fail(`${problems.join('; ')} (${detail(o)})`, describe(o));
    if (!codes.includes(o.json!.code as number)) fail(`code ${String(o.json!.code)}, expected ${codes.join(' or ')} (${detail(o)})`, describe(o));
    if (opts.names !== undefined && !`${String(o.json!.msg)} ${String(o.json!.details ?? '')}`.includes(opts.names)) {
      fail(`the message does not name ${opts.names}: ${detail(o)}`, describe(o));
    }
    return { observed: describe(o), reason: detail(o) };
  });
}

const REQUIRED: Record<string, string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
};

export function errorCases(ctx: Context, netns: string): void {
  const base = { containerId: 'conf-err', netns, ifname: 'eth0' };
  const stdin = ctx.stdin();
  ctx.case({ id: 'E-CMD-UNSET', group: G_ERRORS, level: 'INFO', title: 'CNI_COMMAND unset: code 4, or the Go skel\'s "about" text (exit 0, empty stdout)' }, () => {
    const o = ctx.call({ ...base, command: undefined, stdin });
    if (o.status === 0 && o.stdout.trim() === '') return { observed: 'about', reason: 'exit 0 with empty stdout (the Go skel\'s about text)' };
    if (o.status === 1 && o.json?.code === 4) return { observed: describe(o) };
    return fail(detail(o), describe(o));
  });
  errorCase(ctx, 'E-CMD-UNKNOWN', 'unknown CNI_COMMAND: code 4', { ...base, command: 'FOO', stdin }, [4]);
  for (const [command, vars] of Object.entries(REQUIRED)) {
    if (command === 'CHECK' && !atLeast(ctx.version, '0.4.0')) continue;
    const prev = command === 'CHECK' ? ctx.stdin({ prevResult: { cniVersion: ctx.version, interfaces: [], ips: [] } }) : stdin;
    for (const v of vars) errorCase(ctx, `E-ENV-${command}-${v}`, `${command} without ${v}: code 4 naming it`, { ...base, command, stdin: prev, omit: [v] }, [4], { names: v });
  }
  errorCase(ctx, 'E-ENV-BAD-CONTAINERID', 'ADD with CNI_CONTAINERID "bad/id": code 4', { ...base, containerId: 'bad/id', command: 'ADD', stdin }, [4], { level: 'SHOULD' });
  errorCase(ctx, 'E-ENV-BAD-IFNAME', 'ADD with a 16-character CNI_IFNAME: code 4', { ...base, ifname: 'a234567890123456', command: 'ADD', stdin }, [4], { level: 'SHOULD' });
  for (const command of ['ADD', 'DEL', 'CHECK']) {
    if (command === 'CHECK' && !atLeast(ctx.version, '0.4.0')) continue;
    errorCase(ctx, `E-JSON-${command}`, `${command} with truncated JSON on stdin: code 6`, { ...base, command, stdin: stdin.slice(0, stdin.length - 5) }, [6]);
  }
  errorCase(ctx, 'E-NAME-MISSING', 'ADD of a config without "name": code 7', { ...base, command: 'ADD', stdin: ctx.stdin({ patch: { name: undefined } }) }, [7]);
  errorCase(ctx, 'E-VERSION-UNKNOWN', 'ADD with cniVersion 9.9.9: code 1', { ...base, command: 'ADD', stdin: ctx.stdin({ cniVersion: '9.9.9' }) }, [1]);
  const unsupported = KNOWN_VERSIONS.filter((v) => !ctx.supports(v)).at(-1);
  if (unsupported === undefined) ctx.case({ id: 'E-VERSION-UNSUPPORTED', group: G_ERRORS, title: 'ADD with a spec version the plugin does not list: code 1' }, () => skip('the plugin lists every spec version'));
  else errorCase(ctx, 'E-VERSION-UNSUPPORTED', `ADD with cniVersion ${unsupported}, not in supportedVersions: code 1`, { ...base, command: 'ADD', stdin: ctx.stdin({ cniVersion: unsupported }) }, [1]);
  if (ctx.supports('0.3.1')) {
    errorCase(ctx, 'E-CHECK-OLD', 'CHECK with cniVersion 0.3.1 (CHECK is from 0.4.0): code 1', { ...base, command: 'CHECK', stdin: ctx.stdin({ cniVersion: '0.3.1' }) }, [1]);
  }
  for (const command of ['GC', 'STATUS']) {
    if (ctx.supports('1.1.0')) {
      const old = ['1.0.0', '0.4.0'].find((v) => ctx.supports(v));
      if (old !== undefined) errorCase(ctx, `E-${command}-OLD`, `${command} with cniVersion ${old} (${command} is from 1.1.0): code 1`, { command, containerId: '', netns: '', ifname: '', stdin: ctx.stdin({ cniVersion: old, ...(command === 'GC' ? { valid: [] } : {}) }) }, [1]);
    } else {
      errorCase(ctx, `E-${command}-UNKNOWN`, `${command} to a plugin without 1.1.0: an unknown command, code 4`, { command, containerId: '', netns: '', ifname: '', stdin: ctx.stdin(command === 'GC' ? { valid: [] } : {}) }, [4]);
    }
  }
  ctx.case({ id: 'E-NETNS-MISSING', group: G_ERRORS, title: 'ADD into a namespace path that does not exist: an error, nothing changed on the host, and the DEL after it succeeds' }, () => {
    const before = ctx.hostSnapshot();
    const call = { command: 'ADD', containerId: 'conf-nonetns', netns: '/run/netns/conformance-no-such-netns', ifname: 'eth0', stdin };
    const o = ctx.call(call);
    if (o.json !== undefined && o.status !== 0) ctx.errors.push({ id: 'E-NETNS-MISSING', json: o.json });
    const problems = checkErrorShape(o.status, o.json, o.stdout);
    if (problems.length > 0) fail(`${problems.join('; ')} (${detail(o)})`, describe(o));
    const d = ctx.call({ ...call, command: 'DEL' });
    if (d.status !== 0) fail(`the DEL after it: ${detail(d)}`, describe(o));
    const leaks = diff(before, ctx.hostSnapshot());
    if (leaks.length > 0) fail(`left on the host: ${leaks.join(', ')}`, describe(o));
    return { observed: describe(o), reason: detail(o) };
  });
}

/** After every error case: did each error object carry cniVersion (SPEC §5 lists it)? */
export function errorVersionCase(ctx: Context): void {
  ctx.case({ id: 'E-OBJECT-CNIVERSION', group: G_ERRORS, level: 'SHOULD', title: 'error objects carry cniVersion (SPEC §5 "Error")' }, () => {
    if (ctx.errors.length === 0) skip('no error object was seen');
    const without = ctx.errors.filter((e) => typeof e.json.cniVersion !== 'string');
    if (without.length > 0) fail(`${without.length} of ${ctx.errors.length} error objects have none (${without.slice(0, 3).map((e) => e.id).join(', ')}…)`, 'no cniVersion');
    return { observed: 'cniVersion', reason: `${ctx.errors.length} error objects` };
  });
}
