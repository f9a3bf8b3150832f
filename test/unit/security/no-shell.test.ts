/**
 * Unit (source scan): no user string reaches a shell. src/ never runs a command through a
 * shell by itself (`shell: true`, child_process `exec`/`execSync`, a command line glued from
 * strings): every process is spawned with an argv. The only `sh -c` are the two places where
 * the user's own text IS a shell command by contract, each documented as one: a lab process
 * whose `cmd` is a string (docs/labs.md: "a string is run by /bin/sh -c") and the conformance
 * tool's `--state-cmd CMD`. A new one fails here until it is reviewed and listed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from '../../../src/package-root.js';

const SRC = join(packageRoot(), 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : n.endsWith('.ts') ? [p] : [];
  });
}

/** Reviewed: the user's text is a shell command by contract. */
const ALLOWED = new Map([
  ['lab/check.ts', "a lab process's string `cmd` runs as /bin/sh -c (the lab file's author wrote a shell command)"],
  ['cni-conformance/context.ts', 'the conformance tool runs its --state-cmd CMD with sh -c (documented as a shell command)'],
]);

const PATTERNS: [RegExp, string][] = [
  [/shell:\s*true/, 'shell: true'],
  [/\bexecSync\s*\(/, 'execSync('],
  [/\bchild_process\b[^;]*\bexec\b/, 'child_process exec import'],
  [/import\s*\{[^}]*\bexec(Sync)?\b[^}]*\}\s*from\s*'node:child_process'/, 'exec from node:child_process'],
  [/['"](\/bin\/)?(ba)?sh['"]\s*,\s*\[?\s*['"]-c['"]/, "sh -c"],
];

test('src/ runs no shell but where a shell command is the contract', () => {
  const found: string[] = [];
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file);
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (/^\s*(\/?\*|\/\/)/.test(line)) return; // comments
      for (const [re, what] of PATTERNS) if (re.test(line)) found.push(`${rel}:${i + 1}: ${what}`);
    });
  }
  const unexpected = found.filter((f) => !ALLOWED.has(f.split(':')[0]!));
  assert.deepEqual(unexpected, [], 'a shell where an argv belongs');
  const seen = new Set(found.map((f) => f.split(':')[0]!));
  for (const file of ALLOWED.keys()) assert.ok(seen.has(file), `${file} no longer runs a shell: drop it from ALLOWED`);
});
