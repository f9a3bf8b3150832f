/**
 * Integration (root, throwaway host), fuzzing the CNI plugin: `runCni` (what nsbox-cni runs)
 * over the real backend on a state root with one network, fed configs and CNI_* environments
 * generated with fast-check: JSON garbage, wrong or missing cniVersion, missing and mistyped
 * fields, huge values, invalid network names, bad CNI_COMMAND, CNI_NETNS that does not exist,
 * is no network namespace or climbs out with '..', bad CNI_CONTAINERID, CNI_IFNAME too long or
 * with '/'. No input is a working ADD (the namespace is never a real one, the network name is
 * the existing network's or an invalid one). Every call: one JSON error object on stdout with
 * a spec code, exit 1 — or success with nothing printed for DEL of unknown things (and GC,
 * STATUS, VERSION where the input holds) — never a throw, and nothing changed: the store's rows,
 * the root's files, links, addresses, routes, nf_tables, /run/netns.
 * FUZZ_RUNS for the long form (default 150), FUZZ_SEED to replay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runCni } from '../../../src/cni/main.js';
import { CNI_ERR } from '../../../src/cni/errors.js';
import { ManagedBackend, Manager } from '../../../src/cni/managed-backend.js';
import { rootForTest } from '../../helpers/cli.js';
import { invalidName } from '../../helpers/fuzz-argv.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { kernelSnapshot, settledKernelSnapshot, stateSnapshot, worldSnapshot } from '../../helpers/world-snapshot.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const SPEC_CODES = new Set<number>(Object.values(CNI_ERR));

const junk = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}),
  fc.constant('x'.repeat(100_000)), fc.constantFrom('10.0.0.0/33', '300.1.1.1', '::/129', '0.0.0.0/0', '-1', 'NaN', '../..', '/'));

/** Mostly a good value (so calls get past the environment to the config and the backend), sometimes a bad one. */
const mostly = (good: fc.Arbitrary<string>, bad: fc.Arbitrary<string>): fc.Arbitrary<string> => fc.oneof({ arbitrary: good, weight: 4 }, { arbitrary: bad, weight: 1 });

function configs(net: string, subnet: string): fc.Arbitrary<string> {
  const good: Record<string, unknown> = { cniVersion: '1.0.0', name: net, type: 'nsbox-cni', bridge: `br${net}`.slice(0, 15), isGateway: true, ipMasq: true, ipam: { type: 'nsbox', subnet } };
  const mutated = fc.record({
    drop: fc.subarray(Object.keys(good)),
    set: fc.dictionary(fc.constantFrom(...Object.keys(good), 'ipam', 'runtimeConfig', 'prevResult', 'capabilities', 'args', 'mtu', 'hairpinMode', 'cni.dev/valid-attachments', 'unknownKey'), junk, { maxKeys: 3 }),
    version: mostly(fc.constantFrom('1.0.0', '1.1.0', '0.4.0'), fc.constantFrom('0.3.1', '0.2.0', '2.0.0', '', '1.0', 'x')),
    name: mostly(fc.constant(net), invalidName),
  }).map(({ drop, set, version, name }) => {
    const c: Record<string, unknown> = { ...good, cniVersion: version, name };
    for (const k of drop) delete c[k];
    return JSON.stringify({ ...c, ...set });
  });
  return fc.oneof({ arbitrary: mutated, weight: 6 }, fc.string({ maxLength: 200 }), fc.json({ maxDepth: 3 }), fc.constantFrom('', '{', 'null', '[]', '"x"', '{"cniVersion":"1.0.0"}', '\u0000', '{}'.repeat(1000)));
}

const environments = fc.record({
  CNI_COMMAND: mostly(fc.constantFrom('ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION'), fc.oneof(fc.constantFrom('add', '', 'ADD ', 'DELETE', 'ADD\0'), fc.string({ maxLength: 8 }))),
  CNI_CONTAINERID: mostly(fc.constantFrom('c0ffee', 'abc-123'), fc.oneof(fc.constantFrom('', '../x', '/', 'a/b', 'a\0b', 'x'.repeat(5000), '🙂', '-x', '.'), fc.string({ maxLength: 30 }))),
  CNI_NETNS: fc.constantFrom('/run/netns/nsbt-no-such-ns', '/nonexistent', '', '../../../../proc/self/ns/net/../../x', '/dev/null', '/etc/hostname', '/proc/self/ns/mnt', '/run/netns/../netns/none', '/tmp', 'relative/ns', 'a\0b'),
  CNI_IFNAME: mostly(fc.constantFrom('eth0', 'net1'), fc.constantFrom('', 'abcdefghijklmnop', 'a/b', '..', '.', 'lo', 'eth 0', 'x'.repeat(300), 'a\0b', '🙂', 'a:b')),
  CNI_PATH: fc.constantFrom('/opt/cni/bin', '', '/nonexistent', '..'),
  CNI_ARGS: fc.constantFrom('', 'IgnoreUnknown=1', 'K8S_POD_NAME=x', '=;=', 'a', 'IP=10.0.0.5', 'IP=garbage'),
}, { requiredKeys: ['CNI_COMMAND'] });

/**
 * The snapshot without the root's skeleton (locks/, run/, run/netns/, made on first use) and its
 * lock files: a failed ADD takes the attachment's lock, whose file outlives it (lock files'
 * lifetime is the crash and soak work's, docs/reliability.md).
 */
function withoutLocks(snap: Record<string, unknown>): Record<string, unknown> {
  const files = (snap.files as string[][]).map((list) => list.filter((f) => !/\/(locks|run|run\/netns) dir |\/locks\/[^/]+\.lock file /.test(f)));
  return { ...snap, files };
}

test(`fuzzed CNI configs and environments (${RUNS} runs): a spec error object or success with nothing made, never a throw`, async (t) => {
  const r = rootForTest(t);
  const net = networkName();
  const { cidr } = uniqueSubnet();
  await r.json('network', 'create', net, '--subnet', cidr, '--bridge-name', `br${net}`.slice(0, 15));
  const manager = Manager.open({ root: r.root });
  t.after(() => manager.close());
  const backend = new ManagedBackend(manager);
  await settledKernelSnapshot();
  const before = worldSnapshot(r.root);
  const stateBefore = stateSnapshot(r.root);
  const outcomes: Record<string, number> = {};
  let runs = 0;
  await fc.assert(fc.asyncProperty(configs(net, cidr), environments, async (stdin, env) => {
    const what = `${JSON.stringify(env)} ${JSON.stringify(stdin.slice(0, 300))}`;
    let out;
    try {
      out = await runCni(env, stdin, backend);
    } catch (err) {
      assert.fail(`${what}: runCni threw ${(err as Error).stack}`);
    }
    if (out.exitCode === 0) {
      outcomes[`${env.CNI_COMMAND} ok`] = (outcomes[`${env.CNI_COMMAND} ok`] ?? 0) + 1;
      assert.ok(['DEL', 'GC', 'STATUS', 'VERSION'].includes(env.CNI_COMMAND), `${what}: ${env.CNI_COMMAND} succeeded: ${out.stdout}`);
      if (env.CNI_COMMAND !== 'VERSION') assert.equal(out.stdout, '', what);
    } else {
      assert.equal(out.exitCode, 1, what);
      assert.ok(out.stdout.endsWith('\n') && !out.stdout.slice(0, -1).includes('\n'), `${what}: one line`);
      const e = JSON.parse(out.stdout) as { cniVersion: string; code: number; msg: string; details?: string };
      outcomes[`code ${e.code}`] = (outcomes[`code ${e.code}`] ?? 0) + 1;
      assert.ok(SPEC_CODES.has(e.code), `${what}: code ${e.code}`);
      assert.equal(typeof e.cniVersion, 'string', what);
      assert.ok(typeof e.msg === 'string' && e.msg.length > 0, what);
      assert.doesNotMatch(`${e.msg} ${e.details ?? ''}`, /\n\s+at |Cannot read propert|is not a function|is not iterable|\[object Object\]/, `${what}: ${out.stdout}`);
    }
    assert.deepEqual(withoutLocks(stateSnapshot(r.root)), withoutLocks(stateBefore), `${what} changed the store or a file`);
    if (++runs % 25 === 0) assert.deepEqual(kernelSnapshot(), before.kernel, `the kernel changed by run ${runs} (last: ${what})`);
  }), { numRuns: RUNS, seed: SEED, endOnFailure: true });
  assert.deepEqual(withoutLocks(worldSnapshot(r.root)), withoutLocks(before), 'nothing changed');
  t.diagnostic(`outcomes: ${JSON.stringify(outcomes)}`);
});
