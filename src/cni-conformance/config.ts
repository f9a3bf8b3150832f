/**
 * Layer: cni-conformance (process edge).
 *
 * The network configuration under test, and the stdin a runtime derives from it for each call
 * (SPEC §3, as libcni's buildOneConfig/InjectConf do): the first plugin object of the conflist
 * (or the single plugin config given), with `cniVersion` and `name` injected, `runtimeConfig`
 * holding the runtime's capability arguments that the plugin declares in `capabilities`,
 * `prevResult`, and for GC both `cni.dev/valid-attachments` and `cni.dev/attachments`.
 * `$WORKDIR` anywhere in the file is the run's private work directory (a tmpfs).
 */
import { readFileSync } from 'node:fs';

export interface NetworkConfig {
  name: string;
  cniVersion: string;
  /** The plugin object under test (type and its own keys, without the injected ones). */
  plugin: Record<string, unknown>;
  /** Capabilities the plugin declares true. */
  capabilities: string[];
}

export type Json = Record<string, unknown>;

export function loadConfig(file: string, workdir: string): NetworkConfig {
  const text = readFileSync(file, 'utf8').replaceAll('$WORKDIR', workdir);
  const raw = JSON.parse(text) as Json;
  const list = Array.isArray(raw.plugins) ? raw.plugins as Json[] : [raw];
  const plugin = { ...list[0] };
  if (typeof plugin.type !== 'string') throw new Error(`${file}: the plugin object has no "type"`);
  const name = typeof raw.name === 'string' ? raw.name : 'conformance';
  const cniVersion = typeof raw.cniVersion === 'string' ? raw.cniVersion : '1.0.0';
  delete plugin.cniVersion;
  delete plugin.name;
  const caps = plugin.capabilities !== null && typeof plugin.capabilities === 'object' ? plugin.capabilities as Json : {};
  return { name, cniVersion, plugin, capabilities: Object.keys(caps).filter((k) => caps[k] === true) };
}

export interface Derive {
  cniVersion?: string;
  /** The runtime's capability arguments (portMappings, mac, ips, …): only the declared ones reach runtimeConfig. */
  capabilityArgs?: Json;
  prevResult?: Json;
  /** GC's valid attachments. */
  valid?: { containerID: string; ifname: string }[];
  /** Changes to the plugin object (a key set to undefined is removed). */
  patch?: Json;
}

/** The stdin of one call. */
export function stdinFor(net: NetworkConfig, d: Derive = {}): Json {
  const conf: Json = { cniVersion: d.cniVersion ?? net.cniVersion, name: net.name, ...net.plugin };
  for (const [k, v] of Object.entries(d.patch ?? {})) {
    if (v === undefined) delete conf[k];
    else conf[k] = v;
  }
  const rc: Json = {};
  for (const [k, v] of Object.entries(d.capabilityArgs ?? {})) if (net.capabilities.includes(k)) rc[k] = v;
  if (Object.keys(rc).length > 0) conf.runtimeConfig = { ...(conf.runtimeConfig as Json | undefined), ...rc };
  if (d.prevResult !== undefined) conf.prevResult = d.prevResult;
  if (d.valid !== undefined) {
    conf['cni.dev/valid-attachments'] = d.valid;
    conf['cni.dev/attachments'] = d.valid;
  }
  return conf;
}

/** Semantic version order of two x.y.z strings. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i += 1) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export const atLeast = (v: string, min: string): boolean => compareVersions(v, min) >= 0;

/** The spec versions the suite knows result shapes for. */
export const KNOWN_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
