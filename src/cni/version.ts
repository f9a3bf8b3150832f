/**
 * Layer: cni (process edge).
 *
 * The CNI specification versions nsbox speaks (0.1.0 … 1.1.0), their order (SemVer 2.0
 * precedence: the spec names versions by SemVer), what each version brought (SPEC "Released
 * versions"), which config versions each command accepts, and VERSION's answer (SPEC §2
 * "VERSION", §5 "Version": the supported versions, and the input's `cniVersion` echoed).
 *
 * A version string that is not SemVer is a decoding failure (code 6, as the spec's table words
 * it: "failed to decode version info from string"); a well-formed version nsbox does not speak
 * is code 1 in a config, and is simply echoed by VERSION, whose answer says what nsbox speaks.
 */
import { CNI_ERR, CniError } from './errors.js';
import type { CniCommand } from './env.js';

/** Every version nsbox speaks, oldest first: what VERSION answers in `supportedVersions`. */
export const CNI_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

export type CniVersion = (typeof CNI_VERSIONS)[number];

/** The newest version, in error objects when the input's version is unknown or unreadable. */
export const CURRENT_VERSION: CniVersion = '1.1.0';

/** A config or result without `cniVersion` (or with ""): 0.1.0 had no such key (libcni `DecodeVersion`). */
export const IMPLIED_VERSION: CniVersion = '0.1.0';

/** The first version with each feature (SPEC "Released versions" and the diffs between spec tags). */
export const FEATURES = {
  /** The VERSION command. */
  versionCommand: '0.2.0',
  /** Results with `interfaces`, `ips[]` (with `version`, an `interface` index) and `routes`. */
  richResult: '0.3.0',
  /** Plugin chaining: `prevResult` in the config of ADD. */
  prevResult: '0.3.0',
  /** The CHECK command. */
  check: '0.4.0',
  /** `prevResult` passed on DEL too. */
  prevResultOnDel: '0.4.0',
  /** `ips[]` without `version`. */
  ipsWithoutVersion: '1.0.0',
  /** The STATUS command, and its error codes 50 and 51. */
  status: '1.1.0',
  /** The GC command and `cni.dev/valid-attachments`. */
  gc: '1.1.0',
  /** `interfaces[].mtu/socketPath/pciID` and `routes[].mtu/advmss/priority/table/scope` in results. */
  result11Fields: '1.1.0',
} as const satisfies Record<string, CniVersion>;

export type CniFeature = keyof typeof FEATURES;

/** The config version each command needs (the Go skel refuses the same with code 1). */
const COMMAND_FEATURE: Partial<Record<CniCommand, CniFeature>> = { CHECK: 'check', STATUS: 'status', GC: 'gc' };

/** SemVer 2.0's grammar (semver.org, "Is there a suggested regular expression"). */
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

interface SemVer {
  core: [number, number, number];
  /** Pre-release identifiers; numeric ones as numbers. Empty for a release. */
  pre: (string | number)[];
}

/** A SemVer 2.0 version, or undefined. Build metadata is accepted and has no precedence. */
function parseSemver(text: string): SemVer | undefined {
  const m = SEMVER.exec(text);
  if (m === null) return undefined;
  const pre = m[4] === undefined ? [] : m[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id));
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre };
}

/** Whether `text` is a SemVer 2.0 version. */
export function isSemver(text: unknown): text is string {
  return typeof text === 'string' && parseSemver(text) !== undefined;
}

const sign = (n: number): -1 | 0 | 1 => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** SemVer 2.0 precedence (§11): -1, 0 or 1. TypeError if either is not a version. */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (x === undefined || y === undefined) throw new TypeError(`not a SemVer version: ${JSON.stringify(x === undefined ? a : b)}`);
  for (let i = 0; i < 3; i++) if (x.core[i] !== y.core[i]) return sign(x.core[i]! - y.core[i]!);
  // A pre-release ranks below its release; identifiers compare numerically, numbers below text.
  if (x.pre.length === 0 || y.pre.length === 0) return sign(y.pre.length - x.pre.length);
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i]!;
    const q = y.pre[i]!;
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return sign(p - q);
    if (typeof p === 'number') return -1;
    if (typeof q === 'number') return 1;
    return p < q ? -1 : 1;
  }
  return sign(x.pre.length - y.pre.length);
}

/** Whether nsbox speaks `v`. */
export function isCniVersion(v: unknown): v is CniVersion {
  return typeof v === 'string' && (CNI_VERSIONS as readonly string[]).includes(v);
}

/** Whether `version` has `feature`. */
export function hasFeature(version: CniVersion, feature: CniFeature): boolean {
  return compareVersions(version, FEATURES[feature]) >= 0;
}

function incompatible(version: string): CniError {
  return new CniError(CNI_ERR.INCOMPATIBLE_VERSION, 'incompatible CNI versions', {
    field: 'cniVersion',
    details: `config is ${JSON.stringify(version)}, plugin supports ${JSON.stringify(CNI_VERSIONS)}`,
  });
}

/**
 * A `cniVersion` value, read: missing or "" is 0.1.0; anything but a string, or a string that
 * is not SemVer, is code 6. Well-formed versions are returned whether nsbox speaks them or not.
 */
function readVersion(value: unknown, what: string): string {
  if (value === undefined || value === '') return IMPLIED_VERSION;
  if (typeof value !== 'string') throw new CniError(CNI_ERR.DECODE_FAILURE, `${what}: cniVersion must be a string`, { field: 'cniVersion', details: `got ${JSON.stringify(value)}` });
  if (!isSemver(value)) throw new CniError(CNI_ERR.DECODE_FAILURE, `${what}: cniVersion ${JSON.stringify(value)} is not a version (MAJOR.MINOR.PATCH)`, { field: 'cniVersion' });
  return value;
}

/** The version of a config (the `cniVersion` key's value): code 6 if unreadable, 1 if nsbox does not speak it. */
export function configVersion(value: unknown): CniVersion {
  const v = readVersion(value, 'network config');
  if (!isCniVersion(v)) throw incompatible(v);
  return v;
}

/** Code 1 unless the config's version has the command (CHECK from 0.4.0, STATUS and GC from 1.1.0). */
export function checkCommandVersion(command: CniCommand, version: CniVersion): void {
  const feature = COMMAND_FEATURE[command];
  if (feature !== undefined && !hasFeature(version, feature)) {
    throw new CniError(CNI_ERR.INCOMPATIBLE_VERSION, `config version ${version} does not allow ${command}`, {
      field: 'cniVersion',
      details: `${command} exists from CNI ${FEATURES[feature]} on`,
    });
  }
}

/** VERSION's answer. */
export interface VersionAnswer {
  cniVersion: string;
  supportedVersions: CniVersion[];
}

/**
 * VERSION's answer to its stdin (`{"cniVersion": "…"}`): that version echoed, whether nsbox
 * speaks it or not (empty stdin or no key: 0.1.0), and every version nsbox speaks. Code 6 for
 * stdin that is not a JSON object, or a `cniVersion` that is not a version string.
 */
export function versionAnswer(stdin: string): VersionAnswer {
  let input: unknown = {};
  if (stdin.trim() !== '') {
    try {
      input = JSON.parse(stdin);
    } catch (err) {
      throw new CniError(CNI_ERR.DECODE_FAILURE, 'failed to decode the VERSION input', { details: (err as Error).message });
    }
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new CniError(CNI_ERR.DECODE_FAILURE, 'failed to decode the VERSION input: expected a JSON object such as {"cniVersion":"1.1.0"}');
  }
  return { cniVersion: readVersion((input as { cniVersion?: unknown }).cniVersion, 'VERSION input'), supportedVersions: [...CNI_VERSIONS] };
}
