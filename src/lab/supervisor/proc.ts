/**
 * Layer: lab.
 *
 * What /proc says about a process: its process group, its start time (clock ticks after boot:
 * with the pid, it names one process even after the pid is reused) and its network namespace.
 */
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  state: string;
  pgrp: number;
  /** Field 22 of /proc/PID/stat. */
  start: number;
}

/** undefined when the process is gone. */
export function procInfo(pid: number): ProcInfo | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: the fields start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, state: f[0]!, pgrp: Number(f[2]), start: Number(f[19]) };
}

/** The inode of a process's network namespace; undefined when it is gone. */
export function netnsOf(pid: number): number | undefined {
  try {
    const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The inode of a namespace file (a bind mount of nsfs: the namespace's own inode). */
export function netnsInode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** Every pid in /proc. */
export function allPids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}
