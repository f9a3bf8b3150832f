/**
 * Layer: cni-conformance (process edge).
 *
 * The protocol oracle's shapes (SPEC §5): the ADD result of each spec version (0.1.0/0.2.0:
 * `ip4`/`ip6`; 0.3.x/0.4.0: `interfaces`, `ips[]` with `version`, `routes`; 1.0.0: no
 * `version`; 1.1.0: the interface and route additions), the error object and the VERSION
 * answer. Each check returns the problems found, in words; none means the shape is right.
 */
import { parseCidr, parseIp } from '../net/cidr.js';
import { atLeast } from './config.js';

type Json = Record<string, unknown>;

const MAC = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;
const SEMVER = /^\d+\.\d+\.\d+$/;

function isCidr(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    parseCidr(v);
    return true;
  } catch {
    return false;
  }
}

function isIp(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    parseIp(v);
    return true;
  } catch {
    return false;
  }
}

function unknownKeys(o: Json, allowed: string[], where: string, problems: string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) problems.push(`${where} has "${k}", not a field of this version`);
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkDns(v: unknown, problems: string[]): void {
  if (v === undefined) return;
  if (!isObject(v)) {
    problems.push('dns is not an object');
    return;
  }
  unknownKeys(v, ['nameservers', 'domain', 'search', 'options'], 'dns', problems);
}

function checkRoute(r: unknown, where: string, v11: boolean, problems: string[]): void {
  if (!isObject(r)) {
    problems.push(`${where} is not an object`);
    return;
  }
  if (!isCidr(r.dst)) problems.push(`${where}.dst is not a prefix: ${JSON.stringify(r.dst)}`);
  if (r.gw !== undefined && !isIp(r.gw)) problems.push(`${where}.gw is not an address`);
  unknownKeys(r, v11 ? ['dst', 'gw', 'mtu', 'advmss', 'priority', 'table', 'scope'] : ['dst', 'gw'], where, problems);
}

/** Problems with an ADD result for config version `version`. */
export function checkResultShape(result: Json | undefined, version: string): string[] {
  const problems: string[] = [];
  if (result === undefined) return ['no result on stdout'];
  if (result.cniVersion !== version) problems.push(`cniVersion is ${JSON.stringify(result.cniVersion)}, the config's is ${version}`);
  if (!atLeast(version, '0.3.0')) {
    unknownKeys(result, ['cniVersion', 'ip4', 'ip6', 'dns'], 'the result', problems);
    for (const fam of ['ip4', 'ip6'] as const) {
      const ipc = result[fam];
      if (ipc === undefined) continue;
      if (!isObject(ipc)) {
        problems.push(`${fam} is not an object`);
        continue;
      }
      if (!isCidr(ipc.ip)) problems.push(`${fam}.ip is not an address with a prefix`);
      if (ipc.gateway !== undefined && !isIp(ipc.gateway)) problems.push(`${fam}.gateway is not an address`);
      if (ipc.routes !== undefined && !Array.isArray(ipc.routes)) problems.push(`${fam}.routes is not a list`);
      (Array.isArray(ipc.routes) ? ipc.routes as unknown[] : []).forEach((r, i) => checkRoute(r, `${fam}.routes[${i}]`, false, problems));
    }
    if (result.ip4 === undefined && result.ip6 === undefined) problems.push('neither ip4 nor ip6');
    checkDns(result.dns, problems);
    return problems;
  }
  const v11 = atLeast(version, '1.1.0');
  const v1 = atLeast(version, '1.0.0');
  unknownKeys(result, ['cniVersion', 'interfaces', 'ips', 'routes', 'dns'], 'the result', problems);
  const interfaces = result.interfaces === undefined ? [] : result.interfaces;
  if (!Array.isArray(interfaces)) problems.push('interfaces is not a list');
  const ifs = Array.isArray(interfaces) ? interfaces as unknown[] : [];
  ifs.forEach((i, n) => {
    if (!isObject(i)) {
      problems.push(`interfaces[${n}] is not an object`);
      return;
    }
    if (typeof i.name !== 'string' || i.name === '') problems.push(`interfaces[${n}].name is missing`);
    if (i.mac !== undefined && (typeof i.mac !== 'string' || !MAC.test(i.mac))) problems.push(`interfaces[${n}].mac is not a MAC: ${JSON.stringify(i.mac)}`);
    if (i.sandbox !== undefined && typeof i.sandbox !== 'string') problems.push(`interfaces[${n}].sandbox is not a string`);
    unknownKeys(i, v11 ? ['name', 'mac', 'sandbox', 'mtu', 'socketPath', 'pciID'] : ['name', 'mac', 'sandbox'], `interfaces[${n}]`, problems);
  });
  const ips = result.ips === undefined ? [] : result.ips;
  if (!Array.isArray(ips)) problems.push('ips is not a list');
  (Array.isArray(ips) ? ips as unknown[] : []).forEach((ip, n) => {
    if (!isObject(ip)) {
      problems.push(`ips[${n}] is not an object`);
      return;
    }
    if (!isCidr(ip.address)) problems.push(`ips[${n}].address is not an address with a prefix: ${JSON.stringify(ip.address)}`);
    if (ip.gateway !== undefined && !isIp(ip.gateway)) problems.push(`ips[${n}].gateway is not an address`);
    if (ip.interface !== undefined && (!Number.isInteger(ip.interface) || (ip.interface as number) < 0 || (ip.interface as number) >= ifs.length)) {
      problems.push(`ips[${n}].interface ${JSON.stringify(ip.interface)} is not an index into interfaces (${ifs.length})`);
    }
    if (v1) {
      if (ip.version !== undefined) problems.push(`ips[${n}] has "version", removed in 1.0.0`);
    } else if (ip.version !== '4' && ip.version !== '6') problems.push(`ips[${n}].version is ${JSON.stringify(ip.version)}, must be "4" or "6" before 1.0.0`);
    else if (isCidr(ip.address) && (ip.version === '6') !== String(ip.address).includes(':')) problems.push(`ips[${n}].version does not match its address`);
    unknownKeys(ip, v1 ? ['address', 'gateway', 'interface'] : ['address', 'gateway', 'interface', 'version'], `ips[${n}]`, problems);
  });
  if (result.routes !== undefined && !Array.isArray(result.routes)) problems.push('routes is not a list');
  (Array.isArray(result.routes) ? result.routes as unknown[] : []).forEach((r, n) => checkRoute(r, `routes[${n}]`, v11, problems));
  checkDns(result.dns, problems);
  return problems;
}

/** Problems with an error answer: exit 1, one JSON object on stdout with a numeric code and a msg. */
export function checkErrorShape(status: number | null, json: Json | undefined, stdout: string): string[] {
  const problems: string[] = [];
  if (status !== 1) problems.push(`exit status ${status}, not 1`);
  if (json === undefined) {
    problems.push(stdout.trim() === '' ? 'no error object on stdout' : 'stdout is not one JSON object');
    return problems;
  }
  if (!Number.isInteger(json.code)) problems.push('the error has no integer "code"');
  if (typeof json.msg !== 'string' || json.msg === '') problems.push('the error has no "msg"');
  if (json.details !== undefined && typeof json.details !== 'string') problems.push('"details" is not a string');
  return problems;
}

/** Problems with a VERSION answer to input version `input`. */
export function checkVersionShape(json: Json | undefined): string[] {
  if (json === undefined) return ['no JSON on stdout'];
  const problems: string[] = [];
  if (typeof json.cniVersion !== 'string' || !SEMVER.test(json.cniVersion)) problems.push('cniVersion is not a version');
  if (!Array.isArray(json.supportedVersions) || json.supportedVersions.length === 0) problems.push('no supportedVersions list');
  else for (const v of json.supportedVersions as unknown[]) if (typeof v !== 'string' || !SEMVER.test(v)) problems.push(`supportedVersions has ${JSON.stringify(v)}`);
  return problems;
}

/** A shape fingerprint of a JSON value (keys and types, not values), for differential mode. */
export function shapeOf(v: unknown): string {
  if (Array.isArray(v)) return `[${[...new Set(v.map(shapeOf))].join('|')}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${k}:${shapeOf(v[k])}`).join(',')}}`;
  return typeof v;
}
