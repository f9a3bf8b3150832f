/**
 * Layer: managed.
 *
 * The systemd drop-in that puts the nsbox table back after nftables.service replaces the
 * ruleset: Debian's and Fedora's /etc/nftables.conf begin with `flush ruleset`, which deletes
 * every table, nsbox's included, each time the service starts or reloads. The drop-in runs
 * `nsbox restore --firewall-only` after both (ExecStartPost, and an ExecReload appended after
 * the unit's own); the leading `-` keeps a failure of nsbox from failing the firewall.
 * `restore --firewall-only` and not `gc`: gc also removes records whose namespace is gone,
 * which after a reboot (when nftables.service starts) are the sandboxes `restore --recreate`
 * would rebuild; and not a plain `restore`, which makes bridges and re-adopts sandboxes, work
 * that has no place in the firewall's start. Written only when its content changes, through a
 * temporary file renamed into place.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where systemd reads administrators' unit files and drop-ins. */
export const DEFAULT_UNIT_DIR = '/etc/systemd/system';
/** The drop-in's path under the unit directory. */
export const FIREWALL_DROPIN = 'nftables.service.d/nsbox.conf';

export interface FirewallHookOptions {
  /** The systemd unit directory (default /etc/systemd/system). */
  unitDir?: string;
  /** The state root the hook restores, when it is not the default one (passed as --root). */
  root?: string;
}

export interface FirewallHook {
  /** The drop-in's path. */
  path: string;
  /** False when it was there already with this content. */
  written: boolean;
  content: string;
}

/** A word of a systemd command line: as it is, or double-quoted. */
function unitWord(word: string): string {
  return /^[A-Za-z0-9_./@:+=-]+$/.test(word) ? word : `"${word.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** The drop-in, for the default state root or `root`. */
export function firewallHookContent(root?: string): string {
  const command = ['/usr/bin/env', 'nsbox', ...(root === undefined ? [] : ['--root', root]), 'restore', '--firewall-only'].map(unitWord).join(' ');
  return [
    '# Written by `nsbox firewall install-hook` (docs/firewall.md, "After `nft flush ruleset`").',
    '# /etc/nftables.conf begins with `flush ruleset`, which deletes nsbox\'s table whenever',
    '# nftables.service starts or reloads; this puts it back from nsbox\'s state database.',
    '# The leading "-" keeps a failure of nsbox from failing the firewall.',
    '[Service]',
    `ExecStartPost=-${command}`,
    `ExecReload=-${command}`,
    '',
  ].join('\n');
}

/** Write the drop-in (its directory made if needed); the caller runs `systemctl daemon-reload`. */
export function installFirewallHook(options: FirewallHookOptions = {}): FirewallHook {
  const path = join(options.unitDir ?? DEFAULT_UNIT_DIR, FIREWALL_DROPIN);
  const content = firewallHookContent(options.root);
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) return { path, written: false, content };
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o755 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  chmodSync(tmp, 0o644); // whatever the umask: systemd and its tools read drop-ins as other users too
  renameSync(tmp, path);
  return { path, written: true, content };
}
