/**
 * Unit: the systemd drop-in `nsbox firewall install-hook` writes (managed/firewall-hook.ts), in a
 * temporary unit directory: its content for the default root and another one, written once,
 * left alone when up to date, replaced when it differs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIREWALL_DROPIN, firewallHookContent, installFirewallHook } from '../../../src/managed/firewall-hook.js';

test('the drop-in runs `nsbox restore --firewall-only` after nftables.service starts and after it reloads, failures ignored', () => {
  const lines = firewallHookContent().split('\n').filter((l) => !l.startsWith('#') && l !== '');
  assert.deepEqual(lines, [
    '[Service]',
    'ExecStartPost=-/usr/bin/env nsbox restore --firewall-only',
    'ExecReload=-/usr/bin/env nsbox restore --firewall-only',
  ]);
  assert.match(firewallHookContent('/srv/nsbox state'), /^ExecStartPost=-\/usr\/bin\/env nsbox --root "\/srv\/nsbox state" restore --firewall-only$/m, 'another root, quoted for systemd');
});

test('written into UNIT_DIR/nftables.service.d/nsbox.conf once; again only when it differs', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-units-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = installFirewallHook({ unitDir: dir });
  assert.equal(first.path, join(dir, FIREWALL_DROPIN));
  assert.equal(first.written, true);
  assert.equal(readFileSync(first.path, 'utf8'), firewallHookContent());
  assert.equal(statSync(first.path).mode & 0o777, 0o644);
  assert.equal(installFirewallHook({ unitDir: dir }).written, false, 'up to date');
  writeFileSync(first.path, '[Service]\nExecStartPost=-/bin/true\n');
  assert.equal(installFirewallHook({ unitDir: dir, root: '/srv/nsbox' }).written, true);
  assert.match(readFileSync(first.path, 'utf8'), /--root \/srv\/nsbox restore --firewall-only/);
});
