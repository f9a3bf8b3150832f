/**
 * Benchmark: per-operation cost of the foundation (sys + netlink), side by side in one run
 * with the iproute2 command that does the same. Runs inside the throwaway host made by
 * scripts/run-bench.js. `npm run bench -- ops [N]`.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createNetns, destroyNetns, openNetns, closeNetns } from '../src/sys/index.js';
import { Rtnl } from '../src/netlink/route/ops/index.js';
import { printTable, run, timeUs, type Figure } from './stats.js';

const n = Number(process.argv[2] ?? 200);
const rows: Figure[] = [];
const host = Rtnl.open();

// 1. create + destroy a namespace bound to a file
let k = 0;
rows.push({
  op: 'create + destroy a netns',
  nsboxUs: await timeUs(n, () => { const p = `/run/netns/nsbb-${k++}`; createNetns(p); destroyNetns(p); }),
  peer: '`ip netns add` + `ip netns del`',
  peerUs: await timeUs(Math.min(n, 100), () => { const name = `nsbi-${k++}`; run('ip', ['netns', 'add', name]); run('ip', ['netns', 'del', name]); }),
});

// 2. open an rtnetlink socket inside a namespace (and close it)
createNetns('/run/netns/nsbb-sock');
const nsFd = openNetns('/run/netns/nsbb-sock');
rows.push({
  op: 'open an rtnetlink socket in a netns',
  nsboxUs: await timeUs(n * 5, () => Rtnl.open({ netns: nsFd }).close()),
  peer: '`ip -n NS link show lo` (whole process)',
  peerUs: await timeUs(Math.min(n, 100), () => run('ip', ['-n', 'nsbb-sock', 'link', 'show', 'lo'])),
});
closeNetns(nsFd);
destroyNetns('/run/netns/nsbb-sock');

// 3. one link-set request
run('ip', ['link', 'add', 'nsbb-d0', 'type', 'veth', 'peer', 'name', 'nsbb-d1']);
let up = false;
rows.push({
  op: 'one link-set request (up/down)',
  nsboxUs: await timeUs(n * 10, () => { up = !up; return host.link.set({ name: 'nsbb-d0' }, { up }); }),
  peer: '`ip link set DEV up|down`',
  peerUs: await timeUs(Math.min(n, 100), () => { up = !up; return run('ip', ['link', 'set', 'nsbb-d0', up ? 'up' : 'down']); }),
});
const batchLines = Array.from({ length: 1000 }, (_, i) => `link set nsbb-d0 ${i % 2 ? 'up' : 'down'}`).join('\n');
rows.push({
  op: 'one link-set request (up/down)',
  nsboxUs: rows[rows.length - 1]!.nsboxUs,
  peer: '`ip -batch` (per line, 1000 lines)',
  peerUs: (await timeUs(5, () => run('ip', ['-batch', '-'], batchLines))) / 1000,
});

// 4. dump 1000 links
// This kernel has no dummy driver: 499 more veth pairs make 1000 links with lo and nsbb-d0/1.
run('ip', ['-batch', '-'], Array.from({ length: 499 }, (_, i) => `link add nsbb-x${i} type veth peer name nsbb-y${i}`).join('\n'));
const count = (await host.link.list()).length;
rows.push({
  op: `dump of ${count} links`,
  nsboxUs: await timeUs(50, () => host.link.list()),
  peer: '`ip -d -s link show` > /dev/null',
  peerUs: await timeUs(20, () => run('ip', ['-d', '-s', 'link', 'show'])),
});
rows.push({
  op: `dump of ${count} links`,
  nsboxUs: rows[rows.length - 1]!.nsboxUs,
  peer: '`ip -j -d -s link show` + JSON.parse',
  peerUs: await timeUs(20, () => JSON.parse(run('ip', ['-j', '-d', '-s', 'link', 'show'])) as unknown),
});
host.close();

const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
printTable(`nsbox foundation ops — ${new Date().toISOString().slice(0, 10)}, kernel ${kernel}, ${os.cpus().length} CPUs, Node ${process.version}`, rows);
