/**
 * Layer: cni (process edge).
 *
 * A delegated IPAM plugin (SPEC §4, "Delegated plugins (IPAM)"): found by its `type` in
 * CNI_PATH, run with the environment this plugin got (CNI_COMMAND as the runtime gave it, or
 * the one asked: DEL after a failed ADD) and the same stdin, and read as a runtime reads a
 * plugin: on success a result for ADD and nothing otherwise; on failure the error object on
 * stdout, which comes back as a CniError with the delegate's own code and details, its message
 * naming the plugin.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CniCall } from './backend.js';
import type { CniCommand } from './env.js';
import { CNI_ERR, CniError, invalidField } from './errors.js';
import { isJsonObject } from './fields.js';
import { decodeResult, type CniResult } from './result.js';
import type { CniVersion } from './version.js';

/** The executable `type` in the first CNI_PATH directory that has one. */
export function findPlugin(type: string, cniPath: readonly string[]): string {
  for (const dir of cniPath) {
    const file = join(dir, type);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  throw invalidField('ipam.type', `no executable plugin ${JSON.stringify(type)} in CNI_PATH`, `CNI_PATH: ${cniPath.join(':')}`);
}

/** What a plugin process answered. */
interface PluginAnswer {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
}

function execPlugin(file: string, environment: NodeJS.ProcessEnv, stdin: string): Promise<PluginAnswer> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], { env: environment, stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (err) => reject(new CniError(CNI_ERR.IO_FAILURE, `could not run the IPAM plugin ${file}: ${err.message}`, { cause: err })));
    child.on('close', (exitCode, signal) => resolve({ exitCode, signal, stdout: Buffer.concat(chunks).toString('utf8') }));
    child.stdin.on('error', () => undefined); // a plugin that exits without reading stdin
    child.stdin.end(stdin);
  });
}

/** The delegate's failure as a CniError: its code, msg and details when it printed an error object. */
function failureOf(type: string, command: CniCommand, answer: PluginAnswer): CniError {
  const how = answer.signal !== null ? `was killed by ${answer.signal}` : `exited with ${answer.exitCode}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.stdout);
  } catch {
    parsed = undefined;
  }
  if (isJsonObject(parsed) && typeof parsed.code === 'number' && Number.isInteger(parsed.code)) {
    const msg = typeof parsed.msg === 'string' ? parsed.msg : '';
    const details = typeof parsed.details === 'string' && parsed.details !== '' ? parsed.details : undefined;
    return new CniError(parsed.code, `IPAM plugin ${type} failed (${command}): ${msg}`, { details });
  }
  return new CniError(CNI_ERR.NSBOX_INTERNAL, `IPAM plugin ${type} failed (${command}): it ${how}`, { details: answer.stdout.trim().slice(0, 2000) || undefined });
}

/** Run the delegate for `command`; its answer's stdout on success. */
async function run(type: string, command: CniCommand, call: CniCall): Promise<string> {
  const file = findPlugin(type, call.cniPath);
  const answer = await execPlugin(file, { ...call.environment, CNI_COMMAND: command }, call.stdin);
  if (answer.exitCode !== 0) throw failureOf(type, command, answer);
  return answer.stdout;
}

/** ADD through the delegate: its result, read in the config's version. */
export async function delegateAdd(type: string, call: CniCall, version: CniVersion): Promise<CniResult> {
  const stdout = await run(type, 'ADD', call);
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch (err) {
    throw new CniError(CNI_ERR.DECODE_FAILURE, `IPAM plugin ${type} answered ADD with something that is not JSON`, { details: stdout.slice(0, 2000), cause: err });
  }
  return decodeResult(value, version, `result of IPAM plugin ${type}`);
}

/** DEL, CHECK, STATUS or GC through the delegate (it prints nothing on success). */
export async function delegate(type: string, command: Exclude<CniCommand, 'ADD' | 'VERSION'>, call: CniCall): Promise<void> {
  await run(type, command, call);
}
