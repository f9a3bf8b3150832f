/**
 * Integration (root, throwaway host): 50 nsbox processes at once mixing every sandbox and
 * network command on a few shared names (create, rm, connect, disconnect, run, network
 * create/rm, port add/rm), in a seeded order. Each ends with success or a clear refusal (the
 * name is taken, gone, in use…), never an internal error or a busy database. Afterwards the
 * crash matrix's invariants hold (scripts/crash-matrix.js: store and kernel agree, no orphan
 * link, namespace, lease, nf_tables element or lock file), gc finds nothing, no address is held
 * twice, and no record is lost: a name exists exactly when its successful creates outnumber its
 * successful removals (the two alternate, as a create of a taken name and a rm of a gone one
 * fail).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';
import { nsbox, nsboxJson, nsboxOk, registerCliLeakCheck, rootForFile, type CliResult } from '../../helpers/cli.js';
import { randomName } from '../../helpers/names.js';

registerCliLeakCheck();

/** Other test files share the throwaway host and its nf_tables table: their elements are not ours to judge. */
const SHARED_HOST = { nftables: false };
const MATRIX = new URL('../../../../scripts/crash-matrix.js', import.meta.url);
const { invariants } = await import(pathToFileURL(MATRIX.pathname).href) as { invariants: (root: string, options?: { nftables?: boolean }) => string[] };

/** Refusals a command may meet when others change the same names meanwhile. */
const EXPECTED = new Set(['NSBOX_ERR_CONFIG', 'NSBOX_ERR_EXISTS', 'NSBOX_ERR_NOT_FOUND', 'NSBOX_ERR_IN_USE', 'NSBOX_ERR_CONFLICT', 'NSBOX_ERR_USAGE']);

function errorCode(r: CliResult): string {
  const line = r.stderr.trim().split('\n').at(-1) ?? '';
  try {
    return (JSON.parse(line) as { code: string }).code;
  } catch {
    return `unparsable stderr: ${r.stderr}`;
  }
}

/** A seeded PRNG (mulberry32): the same mix on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('50 concurrent CLIs mixing commands on shared names and networks: clear refusals only, invariants hold, no double lease, no lost record', async () => {
  const root = rootForFile();
  const tag = randomName('').slice(0, 4);
  const names = Array.from({ length: 6 }, (_, i) => `s${tag}${i}`);
  const shared = `na${tag}`;
  const extra = `nb${tag}`;
  await nsboxOk(root, 'network', 'create', shared, '--subnet', '10.231.0.0/24');
  for (const n of names.slice(0, 3)) {
    await nsboxOk(root, 'create', n);
    await nsboxOk(root, 'connect', shared, n);
  }
  const random = rng(16);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const commands: string[][] = Array.from({ length: 50 }, () => {
    const n = pick(names);
    const port = String(18100 + names.indexOf(n));
    return pick([
      ['create', n], ['create', n], ['rm', n], ['rm', n],
      ['connect', shared, n], ['connect', extra, n], ['disconnect', shared, n], ['disconnect', extra, n],
      ['run', '--', 'true'],
      ['network', 'create', extra, '--subnet', '10.232.0.0/24'], ['network', 'rm', extra],
      ['port', 'add', n, `${port}:80`], ['port', 'rm', n, port],
    ]);
  });
  const results = await Promise.all(commands.map((args) => nsbox(root, '--json', ...args)));

  const unexpected: string[] = [];
  for (const [i, r] of results.entries()) {
    if (r.code === 0) continue;
    const code = errorCode(r);
    if (!EXPECTED.has(code)) unexpected.push(`${commands[i]!.join(' ')}: exit ${r.code ?? r.signal} ${code}: ${r.stderr.trim()}`);
  }
  assert.deepEqual(unexpected, [], 'only clear refusals');

  // no lost record: successful creates and removals of each name alternate
  const listed = new Set((await nsboxJson<{ name: string }[]>(root, 'ls')).map((s) => s.name));
  for (const n of [...names, extra]) {
    const isNet = n === extra;
    // a sandbox rm of a name already gone exits 0 with removed: false; only removed: true counts
    const isRm = (i: number): boolean => commands[i]![0] === 'rm' || (commands[i]![0] === 'network' && commands[i]![1] === 'rm');
    const removedIt = (r: CliResult, i: number): boolean => !isRm(i) || ([JSON.parse(r.stdout) as unknown].flat() as { removed?: boolean }[]).some((x) => x.removed !== false);
    const ok = (verb: string): number => results.filter((r, i) => r.code === 0 && removedIt(r, i) && (isNet ? commands[i]![0] === 'network' && commands[i]![1] === verb && commands[i]![2] === n : commands[i]![0] === verb && commands[i]![1] === n)).length;
    const before = isNet ? 0 : (names.indexOf(n) < 3 ? 1 : 0);
    const balance = before + ok('create') - ok('rm');
    assert.ok(balance === 0 || balance === 1, `${n}: ${ok('create')} creates, ${ok('rm')} removals succeeded`);
    const exists = isNet ? (await nsboxJson<{ name: string }[]>(root, 'network', 'ls')).some((x) => x.name === n) : listed.has(n);
    assert.equal(exists, balance === 1, `${n} exists exactly when its creates outnumber its removals`);
  }

  assert.deepEqual(invariants(root, SHARED_HOST), [], 'store and kernel agree');
  assert.deepEqual((await nsboxJson<{ removed: unknown[] }>(root, 'gc', '--dry-run')).removed, [], 'nothing for gc');
  // no address held twice, in the kernel
  const held: string[] = [];
  for (const n of listed) {
    const addrs = JSON.parse(execFileSync('ip', ['-n', n, '-j', 'addr', 'show'], { encoding: 'utf8' })) as { addr_info: { local: string; scope: string }[] }[];
    held.push(...addrs.flatMap((a) => a.addr_info.filter((x) => x.scope === 'global').map((x) => x.local)));
  }
  assert.equal(new Set(held).size, held.length, `an address held twice: ${held.join(' ')}`);

  await nsboxOk(root, 'rm', '--all');
  for (const n of (await nsboxJson<{ name: string }[]>(root, 'network', 'ls')).map((x) => x.name)) if (n !== 'nsbox') await nsboxOk(root, 'network', 'rm', n);
  assert.deepEqual(invariants(root, SHARED_HOST), []);
});
