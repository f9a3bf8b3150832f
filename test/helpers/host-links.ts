/**
 * Test helper: links in the (throwaway) host. Names are `nsbt` + 6 hex + a tag (≤ 15 bytes);
 * every name handed out here is remembered, so the file's leak check can require (in-process
 * suites) or make sure (CLI suites) that none is left.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ip, ipJson, ipTry, type IpLink } from './iproute.js';
import { randomName } from './names.js';

const made = new Set<string>();

/** Every host link name this process handed out or made (for the leak checks). */
export function madeHostLinks(): ReadonlySet<string> {
  return made;
}

/** A host link name unique to this process: `nsbt` + 6 hex + `tag` (≤ 15 bytes). */
export function linkName(tag: string): string {
  const name = `nsbt${randomBytes(3).toString('hex')}${tag}`;
  assert.ok(Buffer.byteLength(name) <= 15, `link name ${name} too long`);
  made.add(name);
  return name;
}

/** `ip link add A type veth peer name B` in the host; returns [A, B]. */
export function hostVeth(a = linkName('a'), b = `${a.slice(0, -1)}b`): [string, string] {
  ip(undefined, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b);
  made.add(a).add(b);
  return [a, b];
}

/**
 * A host veth pair `<prefix><hex>` / `<that><peerSuffix>` (names ≤ 15 bytes) with the first end
 * up, deleted (both ends) when the test ends. Returns the first end's name.
 */
export function hostVethUp(t: TestContext, prefix: string, peerSuffix: string): string {
  const name = randomName(prefix).slice(0, 13);
  ip(undefined, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}${peerSuffix}`);
  made.add(name).add(`${name}${peerSuffix}`);
  t.after(() => { ipTry(undefined, 'link', 'del', name); });
  ip(undefined, 'link', 'set', name, 'up');
  return name;
}

/** `ip link add NAME type bridge` in the host, up. */
export function hostBridge(): string {
  const name = linkName('br');
  ip(undefined, 'link', 'add', name, 'type', 'bridge');
  ip(undefined, 'link', 'set', name, 'up');
  return name;
}

/** Names of the host's links. */
export function hostLinkNames(): string[] {
  return ipJson<{ ifname: string }[]>(undefined, 'link', 'show').map((l) => l.ifname);
}

/** Host links whose name starts with `prefix`. */
export function hostLinks(prefix = 'nsbt'): string[] {
  return hostLinkNames().filter((n) => n.startsWith(prefix));
}

/** Delete host links (ignoring ones already gone, e.g. a veth whose peer died with a sandbox). */
export function delHostLinks(...names: string[]): void {
  for (const n of names) ipTry(undefined, 'link', 'del', n);
}

/** `ip -j -d link show` of the host or of the namespace `ns`. */
export function links(ns?: string): IpLink[] {
  return ipJson<IpLink[]>(ns, '-d', 'link', 'show');
}
