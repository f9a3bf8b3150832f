/**
 * Integration (root, throwaway host): a destroyed sandbox is released at once, even when the
 * program never lets the event loop reach its timers. The soak (scripts/soak.js) found RSS
 * growing by ~9 MiB per 1,000 create/attach/destroy cycles: each interface's pending unsolicited
 * ARP timer (3 messages, 1 s apart) kept its sandbox, netlink socket and Rtnl alive, and a
 * loop of back-to-back netlink work never reached the timers. The timer is now cleared when the
 * interface goes. Checked with WeakRefs and a forced collection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Sandbox } from '../../../src/index.js';
import { delHostLinks, hostVeth } from '../../helpers/host-links.js';
import { checkSandboxLeaks, freshBase, newKey } from '../../helpers/sandbox.js';

const base = freshBase();
checkSandboxLeaks(base);

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

test('30 sandboxes with an advertising interface, destroyed back to back: none is kept alive by its ARP timer', async () => {
  // each cycle in a function of its own, so no variable of the test's frame holds a sandbox
  const cycle = async (i: number): Promise<WeakRef<Sandbox>> => {
    const [a, b] = hostVeth();
    const sb = await Sandbox.create(newKey());
    try {
      await sb.addInterface(a, 'eth', { ipv4: `10.244.${i}.2/24` });
    } finally {
      await sb.destroy();
      delHostLinks(b);
    }
    return new WeakRef(sb);
  };
  const refs: WeakRef<Sandbox>[] = [];
  for (let i = 0; i < 30; i++) refs.push(await cycle(i));
  // WeakRefs hold their targets until the job ends: one turn of the loop (far less than the
  // timers' 1 s, so the last sandboxes' timers are still pending if they keep them)
  await new Promise((resolve) => setImmediate(resolve));
  collect();
  const alive = refs.filter((r) => r.deref() !== undefined).length;
  assert.equal(alive, 0, `${alive} of 30 destroyed sandboxes still reachable`);
});
