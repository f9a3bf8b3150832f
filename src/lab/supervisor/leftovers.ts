/**
 * Layer: lab.
 *
 * The process groups a supervisor started, recorded in processes.json as each one starts and
 * dropped when it is seen to end, so that the processes of a supervisor that died without
 * stopping them (SIGKILL, a crash) do not live on unsupervised: the next supervisor of the lab
 * (`up`), `down` and `reapLeftovers` kill them. A recorded group is found again by its process
 * group id, and each of its members must also have started no earlier than the group's
 * leader did and be in the node's network namespace, so a reused pid is never mistaken for it.
 *
 * (Why not PR_SET_PDEATHSIG: it would kill only the direct child when the supervisor dies, not
 * what that child started, and it fires on the death of the thread that forked, not the
 * process; the record covers every member of the group, at the price of acting at the next
 * up/down rather than at once.)
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { allPids, netnsOf, procInfo } from './proc.js';

export interface GroupRecord {
  node: string;
  process: string;
  /** The leader's pid: the group id (each process is a session of its own). */
  pid: number;
  /** The leader's start time (/proc/PID/stat field 22). */
  start: number;
  /** The inode of the node's network namespace. */
  netns: number;
}

export function readGroups(file: string): GroupRecord[] {
  if (!existsSync(file)) return [];
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { groups?: GroupRecord[] };
    return Array.isArray(v.groups) ? v.groups : [];
  } catch {
    return [];
  }
}

/** Replace the record (written aside, then renamed over: never half written). */
export function writeGroups(file: string, groups: readonly GroupRecord[]): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify({ groups }, null, 1)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** The live processes of recorded groups. */
export function findMembers(groups: readonly GroupRecord[]): number[] {
  if (groups.length === 0) return [];
  const byPgrp = new Map(groups.map((g) => [g.pid, g]));
  const found: number[] = [];
  for (const pid of allPids()) {
    const info = procInfo(pid);
    if (info === undefined || info.state === 'Z') continue;
    const g = byPgrp.get(info.pgrp);
    if (g !== undefined && info.start >= g.start && netnsOf(pid) === g.netns) found.push(pid);
  }
  return found;
}

/** SIGKILL every live member of the recorded groups and wait (up to 5 s) until they are gone; returns their pids. */
export async function killGroups(groups: readonly GroupRecord[]): Promise<number[]> {
  const members = findMembers(groups);
  for (const pid of members) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  for (let i = 0; i < 100 && findMembers(groups).length > 0; i++) await sleep(50);
  return members;
}
