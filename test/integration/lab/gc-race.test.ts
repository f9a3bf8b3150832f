/**
 * Integration (root, throwaway host): `nsbox gc` racing a `lab up`. gc runs again and again while
 * the up makes the lab's sandboxes, networks and links; it must take nothing the up is still
 * making (each sandbox's lock, the lab's lock). Afterwards the up has succeeded, the lab is up
 * with no drift and traffic crosses it, the crash matrix's invariants hold
 * (scripts/crash-matrix.js), and `lab down` leaves nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { finished } from '../../helpers/cli.js';
import { labRootForTest } from '../../helpers/lab-root.js';
import { randomName } from '../../helpers/names.js';

/** Other test files share the throwaway host and its nf_tables table: their elements are not ours to judge. */
const SHARED_HOST = { nftables: false };
const MATRIX = new URL('../../../../scripts/crash-matrix.js', import.meta.url);
const { invariants } = await import(pathToFileURL(MATRIX.pathname).href) as { invariants: (root: string, options?: { nftables?: boolean }) => string[] };

const labFile = (lab: string): string => `lab: ${lab}
networks:
  lan: { subnet: 10.241.0.0/24 }
nodes:
  a:
    interfaces: { eth0: { network: lan, address: 10.241.0.2/24 } }
  b:
    interfaces: { eth0: { network: lan, address: 10.241.0.3/24 } }
  c:
    interfaces: { eth0: { network: lan, address: 10.241.0.4/24 } }
links:
  - name: ab
    a: { node: a, iface: p0, address: 10.242.0.1/30 }
    b: { node: b, iface: p0, address: 10.242.0.2/30 }
`;

test('lab up racing repeated gc: the up succeeds, gc takes nothing of it, the lab works, down leaves nothing', async (t) => {
  const r = labRootForTest(t);
  const lab = randomName('lab');
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-lab-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'lab.yaml');
  writeFileSync(file, labFile(lab));

  const up = finished(r.start(['--json', 'lab', 'up', '-f', file]));
  let upDone = false;
  void up.then(() => { upDone = true; });
  const gcs: { code: number | null; removed: unknown[]; stderr: string }[] = [];
  // at most 3: gc also sweeps the host-wide nf_tables elements of roots it does not know (other test files')
  while ((!upDone || gcs.length === 0) && gcs.length < 3) {
    const res = await r.run('--json', 'gc');
    gcs.push({ code: res.code, removed: res.code === 0 ? (JSON.parse(res.stdout) as { removed: unknown[] }).removed : [], stderr: res.stderr });
  }
  const res = await up;
  assert.equal(res.code, 0, `lab up: ${res.stderr}`);
  assert.deepEqual(gcs.filter((g) => g.code !== 0).map((g) => g.stderr), [], 'every gc succeeds');
  // only this root's things count: the nf_tables table is the host's, shared with other test files' roots
  const ours = gcs.flatMap((g) => g.removed as { kind: string; name: string }[]).filter((a) => a.kind !== 'firewall' || a.name.includes(lab));
  assert.deepEqual(ours, [], `gc took nothing of the lab (${gcs.length} runs)`);

  const st = await r.json<{ state: string; drift: unknown[] }>('lab', 'status', lab);
  assert.equal(st.state, 'up');
  assert.deepEqual(st.drift, []);
  const ping = spawnSync('nsenter', [`--net=/run/netns/${lab}.a`, 'ping', '-c', '1', '-W', '2', '10.242.0.2'], { encoding: 'utf8' });
  assert.equal(ping.status, 0, `a reaches b over their link: ${ping.stdout}${ping.stderr}`);
  assert.deepEqual(invariants(r.root, SHARED_HOST), []);

  await r.ok('lab', 'down', lab);
  assert.deepEqual(invariants(r.root, SHARED_HOST), []);
  assert.deepEqual(await r.json('lab', 'ls'), []);
});
