/**
 * Integration (root, throwaway host): the crash matrix's fixed CI sample
 * (scripts/crash-matrix.js, docs/reliability.md): each state-changing command (create, iface
 * add, connect, disconnect, run, rm, network create/rm, port add, CNI ADD/DEL, lab up/down)
 * SIGKILLed at kill points spread evenly over its state-changing syscalls, then gc and restore,
 * the invariants (store and kernel agree, nothing leaked), the command again and its cleanup.
 * Deterministic: the same points every run. The full matrix: `npm run crash-matrix`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../../scripts/crash-matrix.js', import.meta.url));
/** Kill points in CI: 2 per command (see docs/reliability.md for why not more). */
const POINTS = 26;

interface Report { command: string; killPoints: number; landed: number; failures: number; defects: string[] }

test(`crash matrix sample: ${POINTS} kill points over 13 commands, no defect`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-cm-'));
  try {
    const out = join(dir, 'report.json');
    const res = spawnSync(process.execPath, [SCRIPT, '--points', String(POINTS), '--json', out], { encoding: 'utf8' });
    const reports = JSON.parse(readFileSync(out, 'utf8')) as Report[];
    assert.equal(reports.length, 13, res.stdout + res.stderr);
    assert.deepEqual(reports.flatMap((r) => r.defects.map((d) => `${r.command}: ${d}`)), [], res.stdout);
    assert.equal(res.status, 0, res.stdout + res.stderr);
    const points = reports.reduce((a, r) => a + r.killPoints, 0);
    assert.ok(points >= POINTS - 2, `${points} kill points tried`);
    // most points land (a point past the end of a shorter run completes instead)
    assert.ok(reports.reduce((a, r) => a + r.landed, 0) >= points / 2, res.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
