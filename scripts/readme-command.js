#!/usr/bin/env node
/**
 * Print a command of README.md's "Set up, run, test" section, so that CI runs the README's
 * lines as written instead of a copy that could drift:
 *
 *   node scripts/readme-command.js 'the main job'    # the line whose comment names the main job
 *   node scripts/readme-command.js 'the tests'
 *
 * The section's first ```sh block holds one command per line, each followed by `# comment`;
 * the line whose comment contains the marker is printed without the comment. Exactly one line
 * must match: anything else (no section, no block, no or several matching lines) fails with
 * the reason.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const HEADING = '## Set up, run, test';
const README = fileURLToPath(new URL('../README.md', import.meta.url));

function fail(why) {
  console.error(`readme-command: ${why} (${README})`);
  process.exit(1);
}

const marker = process.argv[2];
if (marker === undefined || marker.trim() === '') fail('usage: node scripts/readme-command.js MARKER');

const lines = readFileSync(README, 'utf8').split('\n');
const heading = lines.findIndex((l) => l.trim() === HEADING);
if (heading === -1) fail(`no "${HEADING}" heading`);
// The first ```sh block after the heading, before the next heading.
let open = -1;
for (let i = heading + 1; i < lines.length && open === -1; i++) {
  if (/^#{1,6} /.test(lines[i])) break;
  if (lines[i].trim() === '```sh') open = i;
}
const close = open === -1 ? -1 : lines.findIndex((l, i) => i > open && l.trim() === '```');
if (open === -1 || close === -1) fail(`no \`\`\`sh block under "${HEADING}"`);

const commands = lines.slice(open + 1, close).map((line) => {
  const m = /^(.*?\S)\s+#\s+(.*)$/.exec(line.trim());
  return m === null ? { command: line.trim(), comment: '' } : { command: m[1], comment: m[2] };
});
const found = commands.filter((c) => c.comment.includes(marker));
if (found.length !== 1) {
  fail(`expected exactly one line of the \`\`\`sh block under "${HEADING}" marked "${marker}" in its comment, found ${found.length}`);
}
process.stdout.write(`${found[0].command}\n`);
