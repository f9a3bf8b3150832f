/**
 * Integration (root, throwaway host): the crash matrix's fixed CI sample
 * (scripts/crash-matrix.js, docs/reliability.md): each state-changing command (create, iface
 * add, connect, disconnect, run, rm, network create/rm, port add, CNI ADD/DEL, lab up/down)
 * SIGKILLed at 16 kill points spread evenly over its state-changing syscalls (208 in all, plus 6
 * seeded random kill times), then gc and restore, the invariants (store and kernel agree, nothing
 * leaked), the command again and its cleanup; 3 workers, each in a throwaway host of its own.
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
/** Kill points in CI: 16 per command (the script's default sample), by 3 workers in hosts of their own. */
const POINTS = 208;
/** Seeded random kill times on top. */
const RANDOM = 6;

interface Report { command: string; killPoints: number; randomKills: number; landed: number; failures: number; skipped: number; defects: string[] }

test(`crash matrix sample: ${POINTS} kill points over 13 commands and ${RANDOM} random kills, no defect`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-cm-'));
  try {
    const out = join(dir, 'report.json');
    const res = spawnSync(process.execPath, [SCRIPT, '--points', String(POINTS), '--random', String(RANDOM), '--workers', '3', '--json', out], { encoding: 'utf8' });
    const { reports } = JSON.parse(readFileSync(out, 'utf8')) as { reports: Report[] };
    assert.equal(reports.length, 13, res.stdout + res.stderr);
    assert.deepEqual(reports.flatMap((r) => r.defects.map((d) => `${r.command}: ${d}`)), [], res.stdout);
    assert.equal(res.status, 0, res.stdout + res.stderr);
    assert.deepEqual(reports.filter((r) => r.killPoints !== POINTS / 13 || r.skipped !== 0).map((r) => r.command), [], res.stdout);
    const points = reports.reduce((a, r) => a + r.killPoints, 0);
    assert.equal(points, POINTS, res.stdout);
    assert.equal(reports.reduce((a, r) => a + r.randomKills, 0), RANDOM, res.stdout);
    // the points are counted in the state the kill runs see: most land (a point past the end of
    // a run that made fewer calls than the counting run lets the command complete)
    assert.ok(reports.reduce((a, r) => a + r.landed, 0) >= (points * 3) / 4, res.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
