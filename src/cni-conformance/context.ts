/**
 * Layer: cni-conformance (process edge).
 *
 * A run's context: the plugin and its config, what its VERSION said, the host snapshot the
 * cases compare to, and the case runner (an outcome per case: a case passes unless it calls
 * `fail` or throws, and `skip` says why it does not apply). Also the runtime's side of one
 * attachment: make a namespace, ADD, DEL, and the leak checks every lifecycle case shares.
 */
import { spawnSync } from 'node:child_process';
import { runPlugin, type Call, type ExecOptions, type Outcome } from './exec.js';
import { stdinFor, type Derive, type Json, type NetworkConfig } from './config.js';
import { addNetns, delNetns, diff, netnsContent, snapshot, type Snapshot } from './kernel.js';
import type { CaseOutcome, Level } from './report.js';

class CaseEnd extends Error {
  readonly status: 'fail' | 'skip';
  readonly observed: string | undefined;

  constructor(status: 'fail' | 'skip', reason: string, observed?: string) {
    super(reason);
    this.status = status;
    this.observed = observed;
  }
}

export const fail = (reason: string, observed?: string): never => {
  throw new CaseEnd('fail', reason, observed);
};
export const skip = (reason: string): never => {
  throw new CaseEnd('skip', reason);
};

export interface CaseSpec {
  id: string;
  group: string;
  title: string;
  level?: Level;
  /** A case run with no attachment left: after it failed with a leak, later cases compare to the state after it. */
  rebaseline?: boolean;
}

/** What a passing case says: a short note and its fingerprint for differential mode. */
export interface Pass {
  reason?: string;
  observed?: string;
}

export interface Attachment {
  ns: string;
  netns: string;
  containerId: string;
  ifname: string;
  add: Outcome;
  result: Json | undefined;
  /** The container interface's first address (with prefix), from the result. */
  address: string | undefined;
  gateway: string | undefined;
}

export interface ContextOptions {
  exec: ExecOptions;
  net: NetworkConfig;
  supported: string[];
  stateDirs: string[];
  stateIgnore: RegExp;
  stateCmd: string | undefined;
  only: RegExp | undefined;
  expectFail: Set<string>;
  log: (line: string) => void;
}

export class Context {
  readonly outcomes: CaseOutcome[] = [];
  /** Every container address and host interface name a result named (the run's leak patterns). */
  readonly seenAddresses = new Set<string>();
  readonly seenHostLinks = new Set<string>();
  /** Every error object seen (for the cniVersion-in-errors case). */
  readonly errors: { id: string; json: Json }[] = [];
  baseline: Snapshot | undefined;
  private seq = 0;

  readonly o: ContextOptions;

  constructor(o: ContextOptions) {
    this.o = o;
  }

  get net(): NetworkConfig {
    return this.o.net;
  }

  get version(): string {
    return this.o.net.cniVersion;
  }

  supports(v: string): boolean {
    return this.o.supported.includes(v);
  }

  selected(id: string): boolean {
    return this.o.only === undefined || this.o.only.test(id);
  }

  /** Run one case (unless --only leaves it out). */
  case(spec: CaseSpec, body: () => Pass | void): void {
    if (!this.selected(spec.id)) return;
    const outcome: CaseOutcome = { id: spec.id, group: spec.group, title: spec.title, level: spec.level ?? 'MUST', status: 'pass', reason: '' };
    try {
      const p = body() ?? {};
      outcome.reason = p.reason ?? '';
      if (p.observed !== undefined) outcome.observed = p.observed;
    } catch (err) {
      if (err instanceof CaseEnd) {
        outcome.status = err.status;
        outcome.reason = err.message;
        if (err.observed !== undefined) outcome.observed = err.observed;
      } else {
        outcome.status = 'fail';
        outcome.reason = `suite error: ${(err as Error).message}`;
      }
    }
    if (outcome.status === 'fail' && this.o.expectFail.has(spec.id)) outcome.expected = true;
    // A leak found is reported once, by the case that made it: later cases compare to the state after it.
    if (outcome.status === 'fail' && spec.rebaseline === true && this.baseline !== undefined && this.hostLeaks().length > 0) this.baseline = this.hostSnapshot();
    this.outcomes.push(outcome);
    this.o.log(`${outcome.status === 'fail' ? (outcome.expected === true ? 'XFAIL' : 'FAIL ') : outcome.status === 'pass' ? 'pass ' : 'skip '} ${spec.id}${outcome.reason === '' ? '' : ` — ${outcome.reason}`}`);
  }

  call(call: Call): Outcome {
    return runPlugin(this.o.exec, call);
  }

  /** A call's stdin for this network. */
  stdin(d: Derive = {}): string {
    return JSON.stringify(stdinFor(this.o.net, d));
  }

  /** A fresh name for a namespace or container. */
  name(prefix: string): string {
    this.seq += 1;
    return `${prefix}${this.seq}`;
  }

  /** Make a namespace and ADD an attachment in it. */
  attach(d: Derive = {}, extra: { args?: string; ifname?: string; containerId?: string; ns?: string } = {}): Attachment {
    const ns = extra.ns ?? this.name('cc');
    const netns = extra.ns === undefined ? addNetns(ns) : `/run/netns/${ns}`;
    const containerId = extra.containerId ?? `conf-${ns}`;
    const ifname = extra.ifname ?? 'eth0';
    const add = this.call({ command: 'ADD', containerId, netns, ifname, args: extra.args ?? '', stdin: this.stdin(d) });
    const result = add.status === 0 ? add.json : undefined;
    const { address, gateway } = firstAddress(result);
    if (address !== undefined) this.seenAddresses.add(address.split('/')[0]!);
    for (const i of resultInterfaces(result)) if (i.sandbox === undefined && i.name !== undefined) this.seenHostLinks.add(i.name);
    return { ns, netns, containerId, ifname, add, result, address, gateway };
  }

  /** DEL an attachment as the runtime does (the cached result as prevResult from 0.4.0). */
  del(a: Attachment, d: Derive = {}, netns: string = a.netns): Outcome {
    const withPrev = d.prevResult === undefined && a.result !== undefined && supportsPrevOnDel(d.cniVersion ?? this.version) ? { ...d, prevResult: a.result } : d;
    return this.call({ command: 'DEL', containerId: a.containerId, netns, ifname: a.ifname, stdin: this.stdin(withPrev) });
  }

  /** The host snapshot, with the state directories and the state command. */
  hostSnapshot(): Snapshot {
    const s = snapshot(undefined, this.o.stateDirs, this.o.stateIgnore);
    if (this.o.stateCmd !== undefined) {
      const res = spawnSync('sh', ['-c', this.o.stateCmd], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...this.o.exec.env } });
      s.files.push(...(res.stdout ?? '').split('\n').filter((l) => l.trim() !== '').map((l) => `state-cmd: ${l.trim()}`));
      if (res.status !== 0) s.files.push(`state-cmd: exit ${res.status}`);
    }
    return s;
  }

  /** What the host has beyond the baseline (after a DEL: a leak). */
  hostLeaks(): string[] {
    if (this.baseline === undefined) return ['no baseline: the warm-up ADD/DEL failed'];
    return diff(this.baseline, this.hostSnapshot());
  }

  /** Everything an attachment left behind after its DEL: inside its namespace (if it still exists) and on the host. */
  leftovers(a: Attachment, netnsExists = true): string[] {
    return [...(netnsExists ? netnsContent(a.ns).map((l) => `netns ${l}`) : []), ...this.hostLeaks().map((l) => `host ${l}`)];
  }

  dropNetns(a: Attachment): void {
    delNetns(a.ns);
  }
}

const supportsPrevOnDel = (v: string): boolean => !['0.1.0', '0.2.0', '0.3.0', '0.3.1'].includes(v);

export interface ResultInterface {
  name?: string;
  mac?: string;
  sandbox?: string;
}

export function resultInterfaces(result: Json | undefined): ResultInterface[] {
  return Array.isArray(result?.interfaces) ? result.interfaces as ResultInterface[] : [];
}

/** The first address of a result (any version's shape) and its gateway. */
export function firstAddress(result: Json | undefined): { address: string | undefined; gateway: string | undefined } {
  if (result === undefined) return { address: undefined, gateway: undefined };
  if (Array.isArray(result.ips) && result.ips.length > 0) {
    const ip = result.ips[0] as { address?: string; gateway?: string };
    return { address: ip.address, gateway: ip.gateway };
  }
  const ip4 = result.ip4 as { ip?: string; gateway?: string } | undefined;
  return { address: ip4?.ip, gateway: ip4?.gateway };
}

/** "exit 1 code 7" / "exit 0" / "killed": what a call did, for fingerprints and reasons. */
export function describe(o: Outcome): string {
  if (o.signal !== null) return `killed by ${o.signal}`;
  const code = o.json?.code;
  return `exit ${o.status}${typeof code === 'number' ? ` code ${code}` : ''}`;
}

/** A call's output for a failure reason: the error message or the start of stdout/stderr. */
export function detail(o: Outcome): string {
  const flat = (t: string): string => t.replace(/\s*\n\s*/g, ' ').trim();
  if (typeof o.json?.msg === 'string') return flat(`${describe(o)}: ${o.json.msg}${typeof o.json.details === 'string' ? ` (${o.json.details})` : ''}`);
  const text = flat(o.stdout.trim() || o.stderr.trim()).slice(0, 300);
  return `${describe(o)}${text === '' ? '' : `: ${text}`}`;
}
