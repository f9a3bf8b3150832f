/**
 * Layer: cni (process edge).
 *
 * Reading fields of the JSON a runtime sends (the plugin config, `prevResult`, `runtimeConfig`)
 * with their types checked, each failure code 7 naming the field by its path
 * ('ipam.ranges[0][0].subnet'). A key set to null reads as absent, as Go's decoder treats it.
 * Unknown keys are never an error: the spec has plugins ignore what they do not know.
 */
import { parseCidr } from '../net/cidr.js';
import { ipVersion } from '../net/ip.js';
import { invalidField } from './errors.js';

export type JsonObject = Record<string, unknown>;

export function isJsonObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** 'a.b', or 'b' at the top. */
export function fieldPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** The value at `key`, undefined when absent or null. */
function get(obj: JsonObject, key: string): unknown {
  const v = Object.hasOwn(obj, key) ? obj[key] : undefined;
  return v === null ? undefined : v;
}

const typeName = (v: unknown): string => (Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`);

/** An address: `prefix` 'none' (bare), 'optional' (bare or /len) or 'required' ('10.0.0.2/24'). */
export function isIp(text: unknown, options: { prefix: 'none' | 'optional' | 'required' }): text is string {
  if (typeof text !== 'string') return false;
  const slash = text.includes('/');
  if (options.prefix === 'none') return !slash && ipVersion(text) !== 0;
  if (options.prefix === 'required' && !slash) return false;
  try {
    parseCidr(text);
    return true;
  } catch {
    return false;
  }
}

export function optObject(obj: JsonObject, key: string, parent: string): JsonObject | undefined {
  const v = get(obj, key);
  if (v === undefined || isJsonObject(v)) return v;
  throw invalidField(fieldPath(parent, key), `expected an object, got ${typeName(v)}`);
}

export function optArray(obj: JsonObject, key: string, parent: string): unknown[] | undefined {
  const v = get(obj, key);
  if (v === undefined || Array.isArray(v)) return v as unknown[] | undefined;
  throw invalidField(fieldPath(parent, key), `expected an array, got ${typeName(v)}`);
}

export function optBool(obj: JsonObject, key: string, parent: string): boolean | undefined {
  const v = get(obj, key);
  if (v === undefined || typeof v === 'boolean') return v;
  throw invalidField(fieldPath(parent, key), `expected true or false, got ${JSON.stringify(v)}`);
}

export function optString(obj: JsonObject, key: string, parent: string): string | undefined {
  const v = get(obj, key);
  if (v === undefined || typeof v === 'string') return v;
  throw invalidField(fieldPath(parent, key), `expected a string, got ${JSON.stringify(v)}`);
}

/** An integer in [min, max]. */
export function optInt(obj: JsonObject, key: string, parent: string, min: number, max: number): number | undefined {
  const v = get(obj, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalidField(fieldPath(parent, key), `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Strings, each checked by `check` (which returns why it is wrong, or undefined). */
export function optStrings(obj: JsonObject, key: string, parent: string, check?: (s: string) => string | undefined): string[] | undefined {
  const list = optArray(obj, key, parent);
  if (list === undefined) return undefined;
  const path = fieldPath(parent, key);
  return list.map((v, i) => {
    if (typeof v !== 'string') throw invalidField(`${path}[${i}]`, `expected a string, got ${JSON.stringify(v)}`);
    const why = check?.(v);
    if (why !== undefined) throw invalidField(`${path}[${i}]`, why);
    return v;
  });
}

/** An address string (see isIp for `prefix`). */
export function optIp(obj: JsonObject, key: string, parent: string, prefix: 'none' | 'optional' | 'required'): string | undefined {
  const v = optString(obj, key, parent);
  if (v === undefined || isIp(v, { prefix })) return v;
  throw invalidField(fieldPath(parent, key), `${JSON.stringify(v)} is not ${ipWording(prefix)}`);
}

export function ipWording(prefix: 'none' | 'optional' | 'required'): string {
  return prefix === 'none' ? 'an IPv4 or IPv6 address' : prefix === 'required' ? 'an address with a prefix length (10.1.0.5/24, fd00::5/64)' : 'an IPv4 or IPv6 address, optionally with /prefix';
}
