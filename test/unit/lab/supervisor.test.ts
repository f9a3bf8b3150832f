/**
 * Unit: the lab supervisor's pieces that need no privilege: the capped log (rotation keeps one
 * old file; the last lines), the protocol's line splitting, and the leftover killer on real
 * process groups of this test (every member found and killed; a record whose start time does
 * not match, as after pid reuse, matches nothing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LogFile, tailLines } from '../../../src/lab/supervisor/log-file.js';
import { takeLines } from '../../../src/lab/supervisor/protocol.js';
import { findMembers, killGroups, readGroups, writeGroups, type GroupRecord } from '../../../src/lab/supervisor/leftovers.js';
import { netnsOf, procInfo } from '../../../src/lab/supervisor/proc.js';

test('LogFile: appends, rotates past its cap keeping one old file; tailLines gives the last lines', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'n.p.log');
  const log = new LogFile(path, 100);
  for (let i = 0; i < 30; i++) log.write(`line ${String(i).padStart(2, '0')}\n`); // 8 bytes each
  log.close();
  assert.ok(statSync(path).size <= 100);
  assert.ok(statSync(`${path}.1`).size <= 100);
  assert.equal(existsSync(`${path}.2`), false);
  assert.deepEqual(tailLines(path, 2), ['line 28', 'line 29']);
  const all = `${readFileSync(`${path}.1`, 'utf8')}${readFileSync(path, 'utf8')}`.split('\n').filter(Boolean);
  assert.equal(all.at(-1), 'line 29');
  // 12 lines of 8 bytes fit in 100: 0-11 went, 12-23 are the old file, 24-29 the current one.
  assert.deepEqual(all, Array.from({ length: 18 }, (_, i) => `line ${String(i + 12).padStart(2, '0')}`));
  assert.deepEqual(tailLines(join(dir, 'none.log'), 5), []);
});

test('takeLines: whole lines out, the rest kept, blank lines skipped', () => {
  assert.deepEqual(takeLines('{"op":"status"}\n\n{"op":'), { lines: ['{"op":"status"}'], rest: '{"op":' });
  assert.deepEqual(takeLines('partial'), { lines: [], rest: 'partial' });
});

test('leftovers: every member of a recorded group is found and killed; a record with another start time matches nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-left-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A group leader with a child of its own in its group.
  const child = spawn('/bin/sh', ['-c', 'sleep 1000 & exec sleep 1001'], { detached: true, stdio: 'ignore' });
  t.after(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } });
  const pid = child.pid!;
  let members: number[] = [];
  const group: GroupRecord = { node: 'n', process: 'p', pid, start: procInfo(pid)!.start, netns: netnsOf(process.pid)! };
  for (let i = 0; i < 100 && members.length < 2; i++) {
    await sleep(20);
    members = findMembers([group]);
  }
  assert.equal(members.length, 2, 'the leader and its child');
  assert.deepEqual(findMembers([{ ...group, start: group.start + 1_000_000 }]), [], 'a later start time: not this group');
  assert.deepEqual(findMembers([{ ...group, netns: group.netns + 1 }]), [], 'another namespace: not this group');

  const file = join(dir, 'processes.json');
  writeGroups(file, [group]);
  assert.deepEqual(readGroups(file), [group]);
  const killed = await killGroups(readGroups(file));
  assert.deepEqual(killed.sort(), members.sort());
  assert.deepEqual(findMembers([group]), []);
});
