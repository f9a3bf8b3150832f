/**
 * Test helper: fast-check arbitraries of argv the CLI must refuse, built from the real command
 * table (every command file registered on a commander program, as main.ts does). Each argv is
 * invalid by construction, so no generated command can change anything:
 *
 * - `unknown-option`: a command, an option it does not have right after it, then anything;
 * - `missing-value`: a command and one of its value options with nothing after it;
 * - `excess`: a command without positionals given one;
 * - `bad-name`: every sandbox, network, lab and host name an invalid one (a character outside
 *   [A-Za-z0-9_.-], a leading '-', '.', '_' or '@', more than 63 bytes, a NUL, unicode, '..',
 *   '/'), the other positionals and option values garbage (out-of-range numbers, bad CIDRs,
 *   huge strings, paths); flags that make a command valid on their own (--all) left out.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Command } from 'commander';
import { COMMAND_FILES } from '../../src/cli/command-table.js';

export interface CommandShape {
  path: string[];
  positionals: { name: string; required: boolean; variadic: boolean }[];
  /** Long (or only) flag of each option, and whether it takes a value. */
  options: { flag: string; value: boolean }[];
}

/** Every leaf command of the CLI, from the command files themselves. */
export async function commandShapes(): Promise<CommandShape[]> {
  const program = new Command('nsbox');
  for (const f of COMMAND_FILES) (await f.load()).register(program, async () => {});
  const out: CommandShape[] = [];
  const walk = (c: Command, path: string[]): void => {
    for (const s of c.commands) {
      const p = [...path, s.name()];
      if (s.commands.length > 0) walk(s, p);
      else {
        out.push({
          path: p,
          positionals: s.registeredArguments.map((a) => ({ name: a.name(), required: a.required, variadic: a.variadic })),
          options: s.options.map((o) => ({ flag: o.long ?? o.short!, value: o.required || o.optional })),
        });
      }
    }
  };
  walk(program, []);
  return out;
}

/** Positionals that name a sandbox, network or lab (an invalid one must be refused). */
const NAME_ARGS = new Set(['name', 'names', 'network', 'lab']);
/** Flags that complete a command on their own (`rm --all`) or ask for help. */
const UNSAFE_FLAGS = new Set(['--all', '--help', '--version', '--keep', '--recreate', '--firewall-only', '--link', '--follow', '--clear', '--dry-run', '--detailed-exitcode']);

/** Names no sandbox, network, lab or host can have. */
export const invalidName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', '.', '..', '/', '../x', 'a/b', './a', 'a\0b', '\0', '-x', '_x', '.hidden', '@h', 'web@h1', 'a b', 'a:b', 'x'.repeat(64), 'x'.repeat(5000),
    'wéb', '名前', '🙂', 'a\nb', 'a\tb', '\u202eevil', '../../../../etc/passwd', '/run/netns/x', 'lo;rm -rf /', '$(id)', '`id`', "a'b", 'a"b', 'a\\b', '%s%n'),
  fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom('/', '\0', ' ', ':', '@', '/..', '\u00e9', '*', '\\'), fc.string({ maxLength: 20 })).map(([a, bad, b]) => `${a}${bad}${b}`),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((s) => !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(s)),
  fc.integer({ min: 64, max: 300 }).map((n) => 'a'.repeat(n)),
);

/** Values for positionals that are not names and for options: garbage of every kind. */
export const garbage: fc.Arbitrary<string> = fc.oneof(
  invalidName,
  fc.constantFrom('0', '-1', '65536', '99999999999999999999', '1e309', 'NaN', 'Infinity', '0x10', '10.0.0.0/33', '10.0.0.256', '10.0.0.1/-1', '::/129', 'fd00::g',
    '10.0.0.0/8', '10.1.2.3', 'fd00::1', '02:00:00:00:00:01', 'zz:zz', '0:0:0', '80', '8080:80', '1:2:3:4', '0:80', '70000:80', '127.0.0.1:0:0/sctp', 'k=v', '=', 'net.ipv4.x=1',
    '1ms', '-5s', '100%', '101%', '1tbit', 'a->b', '/dev/null', '/proc/self/mem', '/', '.', '--'),
  fc.string({ maxLength: 30 }),
  fc.integer().map(String),
);

function unknownOption(s: CommandShape): fc.Arbitrary<string> {
  const own = new Set(s.options.map((o) => o.flag));
  return fc.oneof(fc.constantFrom('--bogus', '--ro0t', '--jsonx', '--name-', '--=', '---x'), fc.stringMatching(/^--[a-z][a-z-]{0,20}$/))
    .filter((o) => !own.has(o) && !['--json', '--root', '--host', '--help', '--version'].includes(o));
}

/** Random tokens after an unknown option (commander stops at the option). */
const anyTokens = fc.array(garbage, { maxLength: 5 });

function badNameArgv(s: CommandShape): fc.Arbitrary<string[]> | undefined {
  const nameful = s.positionals.some((p) => NAME_ARGS.has(p.name)) || s.options.some((o) => o.flag === '--name' && s.path[0] === 'run');
  const fileOnly = s.path[0] === 'lab' && (s.path[1] === 'up' || s.path[1] === 'plan');
  if (!nameful && !fileOnly) return undefined;
  const positionals = fc.tuple(...s.positionals.map((p) => {
    const one = NAME_ARGS.has(p.name) ? invalidName : garbage;
    if (p.variadic) return fc.array(one, { minLength: p.required || NAME_ARGS.has(p.name) ? 1 : 0, maxLength: 3 });
    return p.required || NAME_ARGS.has(p.name) ? one.map((x) => [x]) : fc.option(one.map((x) => [x]), { nil: [] as string[] });
  }));
  const valueOptions = s.options.filter((o) => o.value && !(s.path[0] === 'run' && o.flag === '--name') && !(fileOnly && o.flag === '--file'));
  const flags = s.options.filter((o) => !o.value && !UNSAFE_FLAGS.has(o.flag)).map((o) => o.flag);
  const choices: fc.Arbitrary<string[]>[] = [
    ...(valueOptions.length > 0 ? [fc.tuple(fc.constantFrom(...valueOptions.map((o) => o.flag)), garbage)] : []),
    ...(flags.length > 0 ? [fc.constantFrom(...flags).map((f) => [f])] : []),
  ];
  const options = choices.length === 0 ? fc.constant([] as string[][]) : fc.array(fc.oneof(...choices), { maxLength: 3 });
  // run's name, lab up/plan's file: the one thing that makes them invalid
  const required: fc.Arbitrary<string[]> = s.path[0] === 'run' ? invalidName.map((n) => ['--name', n])
    : fileOnly ? fc.constantFrom('', '/', '.', '..', '/nonexistent/lab.yaml', 'no\0file', '/proc/self/status', '/dev/null').map((f) => ['--file', f])
      : fc.constant([]);
  return fc.tuple(positionals, options, required).map(([pos, opts, req]) => {
    const flatOpts = opts.flat();
    const args = pos.flat();
    // a variadic command after `--`, so options inside it are not nsbox's
    const cmdIndex = s.positionals.findIndex((p) => p.name === 'command');
    if (cmdIndex >= 0) return [...s.path, ...req, ...flatOpts, ...args.slice(0, cmdIndex), '--', ...args.slice(cmdIndex)];
    return [...s.path, ...req, ...flatOpts, ...args];
  });
}

export type FuzzMode = 'unknown-option' | 'missing-value' | 'excess' | 'bad-name' | 'bad-host';

/** One invalid argv: its mode and tokens (global --json in front half the time). */
export function invalidArgv(shapes: readonly CommandShape[]): fc.Arbitrary<{ mode: FuzzMode; argv: string[] }> {
  const perShape = shapes.flatMap((s): fc.Arbitrary<{ mode: FuzzMode; argv: string[] }>[] => {
    const out: fc.Arbitrary<{ mode: FuzzMode; argv: string[] }>[] = [
      fc.tuple(unknownOption(s), anyTokens).map(([o, rest]) => ({ mode: 'unknown-option' as const, argv: [...s.path, o, ...rest] })),
    ];
    const valued = s.options.filter((o) => o.value).map((o) => o.flag);
    if (valued.length > 0) out.push(fc.constantFrom(...valued).map((o) => ({ mode: 'missing-value' as const, argv: [...s.path, o] })));
    if (s.positionals.length === 0) out.push(fc.array(garbage, { minLength: 1, maxLength: 3 }).filter((a) => !a[0]!.startsWith('-')).map((a) => ({ mode: 'excess' as const, argv: [...s.path, ...a] })));
    const bad = badNameArgv(s);
    if (bad !== undefined) out.push(bad.map((argv) => ({ mode: 'bad-name' as const, argv })));
    return out;
  });
  const bareCommands = shapes.map((s) => s.path).filter((p) => ['ls', 'network', 'port', 'lab', 'gc', 'doctor'].includes(p[0]!) && !p.includes('supervise'));
  const badHost = fc.tuple(invalidName, fc.constantFrom(...bareCommands)).map(([h, p]) => ({ mode: 'bad-host' as const, argv: ['--host', h, ...p] }));
  // -V and -h (alone or in a cluster of short flags, `-xVy`) ask for the version or help: valid anywhere
  const asksForHelp = (argv: readonly string[]): boolean => {
    const dash = argv.indexOf('--');
    return (dash < 0 ? argv : argv.slice(0, dash)).some((a) => /^-[^-]*[Vh]/.test(a));
  };
  return fc.tuple(fc.oneof(...perShape, badHost), fc.boolean()).map(([g, json]) => (json ? { ...g, argv: ['--json', ...g.argv] } : g))
    .filter((g) => !asksForHelp(g.argv));
}

/** What a JavaScript error or a stack trace looks like when it leaks into a message. */
const LEAK = /\n\s+at |\bat .+\.c?js:\d+:\d+|TypeError|ReferenceError|SyntaxError|Cannot read propert|is not a function|is not iterable|is not defined|Maximum call stack|ERR_INVALID_ARG|null bytes|\[object Object\]/;

/** The outcome checks shared by the in-process and spawned runs. */
export function assertRefused(argv: readonly string[], res: { code: number | null; stdout: string; stderr: string; crash?: string }): void {
  const what = JSON.stringify(argv);
  assert.equal(res.crash, undefined, `${what}: escaped main: ${res.crash}`);
  assert.ok(res.code === 2 || res.code === 3, `${what}: exit ${res.code}, stderr ${JSON.stringify(res.stderr)} stdout ${JSON.stringify(res.stdout.slice(0, 300))}`);
  assert.equal(res.stdout, '', `${what}: stdout`);
  assert.ok(res.stderr.trim().length > 0, `${what}: a message on stderr`);
  assert.doesNotMatch(res.stderr, LEAK, `${what}: ${res.stderr}`);
  const dash = argv.indexOf('--');
  if ((dash < 0 ? argv : argv.slice(0, dash)).includes('--json')) {
    const err = JSON.parse(res.stderr.trim().split('\n').at(-1)!) as { error: string; code: string; exitCode: number };
    assert.deepEqual(Object.keys(err), ['error', 'code', 'exitCode'], what);
    assert.match(err.code, /^(NSBOX_ERR_[A-Z_]+|E[A-Z]+)$/, what);
    assert.equal(err.exitCode, res.code, what);
    assert.ok(err.error.length > 0, what);
  } else {
    assert.match(res.stderr, /^(nsbox: |error: |[^\n]*:\d+:\d+: )/, `${what}: ${res.stderr}`);
  }
}

