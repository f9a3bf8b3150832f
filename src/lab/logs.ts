/**
 * Layer: lab.
 *
 * `lab logs LAB NODE[/PROC]`: the logs the supervisor writes for a lab's processes
 * (ROOT/labs/LAB/logs/NODE.PROC.log, capped: supervisor/log-file.ts): which files a target
 * names, their last lines, and following them as they grow (a rotated file is read from its
 * start again).
 */
import { closeSync, existsSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NsboxError } from '../errors.js';
import type { Manager } from '../managed/index.js';
import { tailLines } from './supervisor/log-file.js';
import { supervisorPaths } from './supervisor/paths.js';

export interface LogSource {
  node: string;
  process: string;
  path: string;
}

/** The logs of NODE/PROC, or of every process of NODE. */
export function logSources(manager: Manager, lab: string, target: string): LogSource[] {
  const [node, proc, extra] = target.split('/');
  if (node === undefined || node === '' || proc === '' || extra !== undefined) throw new NsboxError(`${JSON.stringify(target)}: expected NODE or NODE/PROCESS`, 'NSBOX_ERR_USAGE');
  const dir = supervisorPaths(manager, lab).logs;
  const names = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.log')) : [];
  const sources = names.map((f) => {
    const [n, p] = f.slice(0, -'.log'.length).split('.');
    return { node: n!, process: p!, path: join(dir, f) };
  }).filter((s) => s.node === node && (proc === undefined || s.process === proc));
  if (sources.length === 0) throw new NsboxError(`lab ${lab} has no log of ${target} (logs are kept for the processes its supervisor started, until \`nsbox lab down\`)`, 'NSBOX_ERR_NOT_FOUND');
  return sources.sort((a, b) => (a.process < b.process ? -1 : 1));
}

export { tailLines };

/**
 * Call `onData` with what is appended to each file from now on, until `signal` aborts;
 * polled every 200 ms.
 */
export async function followLogs(sources: readonly LogSource[], onData: (source: LogSource, text: string) => void, signal: AbortSignal): Promise<void> {
  const size = (p: string): number => { try { return statSync(p).size; } catch { return 0; } };
  const offsets = sources.map((s) => size(s.path));
  while (!signal.aborted) {
    for (const [i, s] of sources.entries()) {
      const now = size(s.path);
      if (now < offsets[i]!) offsets[i] = 0; // rotated: the new file from its start
      if (now === offsets[i]) continue;
      const fd = openSync(s.path, 'r');
      try {
        const buf = Buffer.alloc(now - offsets[i]!);
        const n = readSync(fd, buf, 0, buf.length, offsets[i]!);
        offsets[i] = offsets[i]! + n;
        onData(s, buf.subarray(0, n).toString('utf8'));
      } finally {
        closeSync(fd);
      }
    }
    await sleep(200, undefined, { signal }).catch(() => undefined);
  }
}
