/**
 * Test helper: a namespace playing the outside world for the firewall and names tests: reached
 * from the throwaway host over a veth (the world is 192.0.2.254/24 and 2001:db8::254/64, the
 * host 192.0.2.1/24 and 2001:db8::1/64) and with no route back to any sandbox subnet, so only
 * masqueraded traffic gets an answer. Servers run in it with `ip netns exec`; `exec` runs a
 * client there.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { ip } from './iproute.js';
import { makeNetns, type TestNetns } from './netns.js';
import { waitForOutput } from './cli.js';

export const HOST_ADDRESS = '192.0.2.1';
export const WORLD_ADDRESS = '192.0.2.254';
export const HOST_ADDRESS6 = '2001:db8::1';
export const WORLD_ADDRESS6 = '2001:db8::254';

export interface World {
  /** Its name in /run/netns. */
  name: string;
  /** The host's end of the veth. */
  uplink: string;
  /** Start `argv` inside it; resolves once it printed `ready` on stdout. Killed by dispose. */
  serve(argv: readonly string[]): Promise<ChildProcessWithoutNullStreams>;
  /** Kill its servers, delete the veth, destroy the namespace. */
  dispose(): void;
}

/** The world, up: its veth addressed and up on both sides, lo up. */
export function makeWorld(): World {
  const ns: TestNetns = makeNetns();
  const uplink = `nsbup${ns.name.slice(-6)}`;
  ip(undefined, 'link', 'add', uplink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name);
  ip(undefined, 'addr', 'add', `${HOST_ADDRESS}/24`, 'dev', uplink);
  ip(undefined, 'addr', 'add', `${HOST_ADDRESS6}/64`, 'dev', uplink, 'nodad');
  ip(undefined, 'link', 'set', uplink, 'up');
  ip(ns.name, 'addr', 'add', `${WORLD_ADDRESS}/24`, 'dev', 'eth0');
  ip(ns.name, 'addr', 'add', `${WORLD_ADDRESS6}/64`, 'dev', 'eth0', 'nodad');
  ip(ns.name, 'link', 'set', 'eth0', 'up');
  ip(ns.name, 'link', 'set', 'lo', 'up');
  const servers: ChildProcessWithoutNullStreams[] = [];
  return {
    name: ns.name,
    uplink,
    async serve(argv) {
      const child = spawn('ip', ['netns', 'exec', ns.name, ...argv]);
      servers.push(child);
      await waitForOutput(child, 'stdout', 'ready');
      return child;
    },
    dispose() {
      for (const s of servers) s.kill();
      ip(undefined, 'link', 'del', uplink);
      ns[Symbol.dispose]();
    },
  };
}
