/**
 * Integration (root, throwaway host): two state roots in one host share the host's `inet nsbox`
 * table; each root's elements carry its tag (`root=…` in their comments), and `nsbox gc` and
 * `nsbox restore` in one root repair only its own: the other's network and published-port
 * elements stay byte for byte, and its published port keeps answering from outside (a
 * namespace playing the world, helpers/world.ts). Before, gc in one root removed every element
 * its own store did not list, the other roots' with them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { HOST_ADDRESS, WORLD_ADDRESS, makeWorld, type World } from '../../helpers/world.js';
import { rootForTest, waitForOutput, type NsboxRoot } from '../../helpers/cli.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { clientArgv, serverArgv } from '../../helpers/probe-servers.js';

let world: World;
let nextPort = 20000 + Math.floor(Math.random() * 20000);
const port = (): number => nextPort++;

before(() => { world = makeWorld(); });
after(() => world.dispose());

function probe(p: number): string {
  const argv = clientArgv('tcp', HOST_ADDRESS, p);
  const res = spawnSync('ip', ['netns', 'exec', world.name, ...argv], { encoding: 'utf8' });
  return `${res.stdout}${res.stderr}`.trim();
}

/** The nsbox table as nft lists it (sets and their elements, with comments). */
function table(): string {
  const res = spawnSync('nft', ['list', 'table', 'inet', 'nsbox'], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  return res.stdout;
}

/** The elements (`nft -j`'s, one per string, with their set's name) whose text matches `what`. */
function elementsOf(what: RegExp): string[] {
  const listed = JSON.parse(spawnSync('nft', ['-j', 'list', 'table', 'inet', 'nsbox'], { encoding: 'utf8' }).stdout) as { nftables: { set?: { name: string; elem?: unknown[] }; map?: { name: string; elem?: unknown[] } }[] };
  const out: string[] = [];
  for (const item of listed.nftables) {
    const s = item.set ?? item.map;
    for (const e of s?.elem ?? []) {
      const text = `${s!.name} ${JSON.stringify(e)}`;
      if (what.test(text)) out.push(text);
    }
  }
  return out.sort();
}

async function serve(r: NsboxRoot, label: string): Promise<{ net: string; p: number; stop: () => Promise<void> }> {
  const net = networkName();
  await r.ok('network', 'create', net, '--subnet', uniqueSubnet().cidr);
  const p = port();
  const web = r.start(['run', '--name', `${label}${p}`, '--network', net, '-p', `${p}:80`, '--', ...serverArgv(label, 80)]);
  await waitForOutput(web, 'stdout', 'ready');
  return {
    net, p,
    stop: async () => {
      web.kill('SIGTERM');
      await once(web, 'exit');
      await r.ok('network', 'rm', net);
    },
  };
}

test('gc and restore in one state root leave another root\'s nf_tables elements and published port as they were', async (t) => {
  const a = rootForTest(t);
  const b = rootForTest(t);
  const sa = await serve(a, 'alpha');
  const sb = await serve(b, 'beta');
  assert.match(probe(sa.p), new RegExp(`^alpha peer=${WORLD_ADDRESS}$`));
  assert.match(probe(sb.p), new RegExp(`^beta peer=${WORLD_ADDRESS}$`));
  const bElements = [...elementsOf(new RegExp(`network=${sb.net}[" ]`)), ...elementsOf(new RegExp(`port=${sb.p}/tcp`))];
  assert.ok(bElements.length >= 4, `the other root's network and port elements: ${bElements.join('\n')}`);
  const whole = table();

  const gc = await a.json<{ removed: { kind: string; name: string }[]; errors: unknown[] }>('gc');
  assert.deepEqual(gc.removed, [], 'nothing of root a to repair, and root b\'s elements are not a\'s');
  assert.deepEqual(gc.errors, []);
  assert.equal(table(), whole, 'the table byte for byte after gc in root a');
  assert.deepEqual((await a.json<{ name: string; status: string }[]>('restore')).filter((o) => o.status !== 'adopted'), []);
  assert.equal(table(), whole, 'and after restore in root a');
  assert.match(probe(sb.p), new RegExp(`^beta peer=${WORLD_ADDRESS}$`), 'root b\'s published port still answers');
  assert.match(probe(sa.p), new RegExp(`^alpha peer=${WORLD_ADDRESS}$`));

  // one root's element gone by hand: its own gc puts it back; the other root's gc does not touch it
  const nft = spawnSync('nft', ['delete', 'element', 'inet', 'nsbox', 'dnat4_any', `{ tcp . ${sb.p} }`], { encoding: 'utf8' });
  assert.equal(nft.status, 0, nft.stderr);
  assert.deepEqual((await a.json<{ removed: unknown[] }>('gc')).removed, []);
  const gcB = await b.json<{ removed: { kind: string; name: string; reason: string }[] }>('gc');
  assert.deepEqual(gcB.removed.map((x) => [x.kind, x.reason]), [['firewall', 'recorded but missing in the kernel: put back']]);
  assert.equal(table(), whole);
  assert.match(probe(sb.p), /^beta peer=/);

  await sa.stop();
  await sb.stop();
  assert.deepEqual(elementsOf(new RegExp(`network=(${sa.net}|${sb.net})[" ]`)), []);
});
