/**
 * Unit: the CLI's global options before the command (src/cli/command-table.ts): where the
 * command is and --root's value (`--root DIR` and `--root=DIR`), as filesFor finds the command
 * file to load and the CLI finds the state root to start an agent on demand for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filesFor, globalOptions } from '../../../src/cli/command-table.js';

test('globalOptions: the command after --root DIR, --root=DIR, --host H and --json; a word after the command is not an option', () => {
  assert.deepEqual(globalOptions(['ls']), { command: 0, root: undefined });
  assert.deepEqual(globalOptions(['--root', '/r', '--json', 'create', 'a']), { command: 3, root: '/r' });
  assert.deepEqual(globalOptions(['--root=/r2', 'ls']), { command: 1, root: '/r2' });
  assert.deepEqual(globalOptions(['--host', 'h1', '--root', '/r', 'run', '--', 'x', '--root', '/not']), { command: 4, root: '/r' });
  assert.deepEqual(globalOptions(['run', '--root', '/not']), { command: 0, root: undefined });
  assert.deepEqual(globalOptions(['--root']), { command: 2, root: undefined }, 'a --root without its value');
  assert.deepEqual(globalOptions(['--', 'ls']), { command: 0, root: undefined });
});

test('filesFor: the command file after the global options, every file without a known command', () => {
  const [one] = filesFor(['--root', '/r', '--json', 'agent']);
  assert.deepEqual(one?.names, ['agent']);
  assert.deepEqual(filesFor(['--root', '/r', 'help', 'agent']).map((f) => f.names), [['agent']]);
  assert.ok(filesFor(['--root', '/r']).length > 10, 'no command: every file');
  assert.ok(filesFor(['no-such-command']).length > 10);
});
