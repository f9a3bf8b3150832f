/**
 * Layer: cni (process edge).
 *
 * The plugin config a runtime writes on stdin (SPEC §1 "Plugin configuration objects", as §3
 * derives it for one call: `cniVersion` and `name` injected, `runtimeConfig`, `prevResult`,
 * GC's `cni.dev/valid-attachments`). Read in two steps:
 *
 * - the envelope, which every command reads: `cniVersion` (code 6 if unreadable, 1 if nsbox
 *   does not speak it), `name` and `type` (7), `ipam.type`, `prevResult` (from 0.3.0; 7 if
 *   malformed), and GC's attachments;
 * - the whole config, which ADD, CHECK and STATUS act on: the bridge fields (bridge-config.ts),
 *   the IPAM section (ipam-config.ts), `dns`, `capabilities` and what the runtime asks of the
 *   attachment (runtime-config.ts). Code 2 for what nsbox cannot honour, 7 for malformed values.
 *
 * DEL and GC read the envelope only: they undo what nsbox recorded under (network, container,
 * interface), so a config that ADD refused, or one changed since, still lets them clean up.
 * Keys nsbox does not know are ignored at every level (SPEC §1: plugins may ignore them).
 */
import { parseBridgeConfig, type BridgeConfig } from './bridge-config.js';
import type { CniArgs } from './env.js';
import { CNI_ERR, CniError, invalidField } from './errors.js';
import { isJsonObject, optArray, optString, type JsonObject } from './fields.js';
import { checkPluginType, parseIpamConfig, readIpamType, type IpamConfig } from './ipam-config.js';
import { decodeDns, decodeResult, type CniDns, type CniResult } from './result.js';
import { parseAttachmentRequests, parseCapabilities, type AttachmentRequests } from './runtime-config.js';
import { configVersion, hasFeature, type CniVersion } from './version.js';

/** SPEC §1 `name`: alphanumeric first, then alphanumerics, '_', '.' or '-' (so no '/'). */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** GC's keys for the attachments still valid: the spec's, and the one libcni also sends (cni#1103). */
export const VALID_ATTACHMENTS_KEYS = ['cni.dev/valid-attachments', 'cni.dev/attachments'] as const;

/** An attachment, as GC names the valid ones. */
export interface GcAttachment {
  containerId: string;
  ifname: string;
}

/** What every command reads. */
export interface ConfigEnvelope {
  cniVersion: CniVersion;
  /** The network's name. */
  name: string;
  /** The plugin's type (its file name). */
  type: string;
  /** `ipam.type`, undefined when there is none. */
  ipamType: string | undefined;
  /** The previous result, in its in-memory form (configs from 0.3.0 on; earlier ones have no such key). */
  prevResult: CniResult | undefined;
  /** GC: the valid attachments (the union of both keys), undefined when neither key is there. */
  validAttachments: GcAttachment[] | undefined;
  /** The config object as sent. */
  raw: JsonObject;
}

/** What ADD, CHECK and STATUS act on. */
export interface PluginConfig extends ConfigEnvelope {
  bridge: BridgeConfig;
  ipam: IpamConfig;
  /** The config's `dns` (the result's DNS, merged with the runtime's by the backend). */
  dns: CniDns | undefined;
  /** The capabilities declared true. */
  capabilities: Set<string>;
  requests: AttachmentRequests;
}

/** The stdin text as a JSON object: code 6 otherwise. */
export function decodeConfig(stdin: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(stdin);
  } catch (err) {
    throw new CniError(CNI_ERR.DECODE_FAILURE, 'failed to decode the network config', { details: (err as Error).message });
  }
  if (!isJsonObject(value)) throw new CniError(CNI_ERR.DECODE_FAILURE, 'failed to decode the network config: expected a JSON object');
  return value;
}

/** GC's valid attachments under one key. */
function readAttachments(raw: JsonObject, key: string): GcAttachment[] | undefined {
  const list = optArray(raw, key, '');
  return list?.map((entry, i) => {
    const path = `${key}[${i}]`;
    if (!isJsonObject(entry)) throw invalidField(path, 'expected {"containerID": "…", "ifname": "…"}');
    const containerId = optString(entry, 'containerID', path);
    const ifname = optString(entry, 'ifname', path);
    if (!containerId) throw invalidField(`${path}.containerID`, 'missing');
    if (!ifname) throw invalidField(`${path}.ifname`, 'missing');
    return { containerId, ifname };
  });
}

/** The envelope of a config: what every command reads. */
export function parseEnvelope(raw: JsonObject): ConfigEnvelope {
  const cniVersion = configVersion(raw.cniVersion);
  const name = optString(raw, 'name', '');
  if (name === undefined || name === '') throw invalidField('name', 'missing network name');
  if (!NETWORK_NAME.test(name)) throw invalidField('name', `invalid characters in network name ${JSON.stringify(name)}: it must start with a letter or digit, followed by letters, digits, '_', '.' or '-'`);
  const type = optString(raw, 'type', '');
  if (type === undefined) throw invalidField('type', 'missing plugin type');
  checkPluginType(type, 'type');
  const ipamType = readIpamType(raw);
  const prevResult = hasFeature(cniVersion, 'prevResult') && raw.prevResult !== undefined && raw.prevResult !== null
    ? decodeResult(raw.prevResult, cniVersion, 'prevResult')
    : undefined;
  let validAttachments: GcAttachment[] | undefined;
  for (const key of VALID_ATTACHMENTS_KEYS) {
    const list = readAttachments(raw, key);
    if (list === undefined) continue;
    validAttachments ??= [];
    for (const a of list) {
      if (!validAttachments.some((b) => b.containerId === a.containerId && b.ifname === a.ifname)) validAttachments.push(a);
    }
  }
  return { cniVersion, name, type, ipamType, prevResult, validAttachments, raw };
}

/** The whole config, for ADD, CHECK and STATUS; CNI_ARGS feeds the attachment's requests. */
export function parsePluginConfig(envelope: ConfigEnvelope, cniArgs: CniArgs): PluginConfig {
  const { raw } = envelope;
  const bridge = parseBridgeConfig(raw);
  const ipam = parseIpamConfig(raw);
  const dns = decodeDns(raw, 'dns', '');
  const capabilities = parseCapabilities(raw);
  const requests = parseAttachmentRequests(raw, cniArgs, ipam);
  return { ...envelope, bridge, ipam, dns, capabilities, requests };
}
