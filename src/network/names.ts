/**
 * Layer: network.
 *
 * Names and tags of what networks create in the host: bridges, veth ends, and the ifalias
 * that lets gc find what nsbox made (and only that).
 */
import { nodeCrypto } from '../builtins.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Sandbox and network names: what a file name, a lock file and an ifalias can all hold. */
export function checkName(kind: 'sandbox' | 'network', name: string): void {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new TypeError(`invalid ${kind} name ${JSON.stringify(name)}: 1 to 63 characters of letters, digits, '_', '.', '-', starting with a letter or digit`);
  }
}

function shortHash(text: string, len: number): string {
  return nodeCrypto().createHash('sha256').update(text).digest('hex').slice(0, len);
}

/** The default bridge of a network: its own name when it fits (nsbox0), else nsbr-<name or hash>. */
export function defaultBridgeName(network: string): string {
  if (network === 'nsbox0') return 'nsbox0';
  const plain = `nsbr-${network}`;
  return plain.length <= 15 && !plain.includes('.') ? plain : `nsbr-${shortHash(network, 10)}`;
}

/** The host end of a sandbox's veth on a network: stable for (owner, network), 12 chars. */
export function hostVethName(owner: string, network: string): string {
  return `vnsb${shortHash(`${owner}\0${network}`, 8)}`;
}

/** ifalias of a host-side veth end made for the sandbox at `owner` (its key). */
export function vethTag(owner: string): string {
  return `nsbox:${owner}`.slice(0, 255);
}

/** ifalias of a bridge made for a network; `scope` keeps separate state roots apart. */
export function bridgeTag(scope: string, network: string): string {
  return `nsbox-net:${scope}/${network}`.slice(0, 255);
}
