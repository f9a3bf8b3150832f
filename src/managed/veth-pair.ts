/**
 * Layer: managed.
 *
 * A veth pair between two recorded sandboxes, born in their namespaces: one RTM_NEWLINK sent
 * from inside the first sandbox with the peer's IFLA_NET_NS_FD, each end with its final name,
 * MTU and MAC, so no end ever exists in the host and none is moved (a move waits for an RCU
 * grace period under the rtnl lock, ~20 ms here; the pair born in place costs ~2.5 ms).
 *
 * Both sandboxes are locked (in name order, so two pairs made at once cannot deadlock) and both
 * interface rows are recorded in state 'adding' before the kernel work, marked ready after, and
 * dropped on failure (the pair is deleted). The rows are `createdInContainer` without a network:
 * links made for the sandbox, deleted rather than given back. A process killed in between leaves
 * 'adding' rows that gc (or the next command's gcSandboxes) undoes by deleting the link, which
 * takes the peer with it. Removing either sandbox deletes the pair with its namespace; removing
 * one end (`removeInterface`) deletes both, and the other row is then dropped as a link gone.
 *
 * The rows' `srcName` is the caller's key for the end (a lab uses its link's hash names, so its
 * prune recognises the ends); the kernel's link is never under that name.
 */
import { NsboxError } from '../errors.js';
import type { InterfaceRecord, SandboxRecord } from '../store/index.js';
import { adopt, requireReady, type Adopted } from './adopt.js';
import type { StateRoot } from './root.js';
import { pausePoint } from './test-hooks.js';
import { refreshNames } from './names.js';

/** One end of a pair. */
export interface VethPairEnd {
  /** The sandbox it is born in. */
  sandbox: string;
  /** Its name there (at most 15 bytes). */
  name: string;
  /** The row's source name: the caller's key for this end, unique in the sandbox (default: `name`). */
  key?: string;
  ipv4?: string;
  ipv6?: string;
  mac?: string;
  mtu?: number;
}

export interface VethPair {
  a: InterfaceRecord;
  b: InterfaceRecord;
}

function checkEnd(end: VethPairEnd): void {
  if (end.name === '' || Buffer.byteLength(end.name) > 15 || /[\s/:]/.test(end.name)) {
    throw new NsboxError(`interface name ${JSON.stringify(end.name)} for sandbox ${end.sandbox} is not a link name (1 to 15 bytes, no space, '/' or ':')`, 'NSBOX_ERR_NAME');
  }
}

function checkFree(rec: SandboxRecord, end: VethPairEnd): void {
  const key = end.key ?? end.name;
  if (rec.config.interfaces.some((i) => i.dstName === end.name)) throw new NsboxError(`sandbox ${rec.name} already has an interface named ${end.name}`, 'NSBOX_ERR_EXISTS');
  if (rec.config.interfaces.some((i) => i.srcName === key)) throw new NsboxError(`sandbox ${rec.name} already has an interface from ${key}`, 'NSBOX_ERR_EXISTS');
}

function rowOf(end: VethPairEnd, peer: VethPairEnd): InterfaceRecord {
  return {
    srcName: end.key ?? end.name, dstPrefix: 'eth', dstName: end.name, state: 'adding',
    options: { ipv4: end.ipv4, ipv6: end.ipv6, mac: end.mac, createdInContainer: true },
    link: { kind: 'veth', mtu: end.mtu, peerSandbox: peer.sandbox, peerName: peer.name },
  };
}

/** Drop the row of `end` (still 'adding'). */
function dropRow(root: StateRoot, end: VethPairEnd): void {
  const key = end.key ?? end.name;
  root.records.update(end.sandbox, (c) => { c.interfaces = c.interfaces.filter((i) => i.srcName !== key); });
}

/** Configure the end born in `adopted` (addresses, MAC, up) and mark its row ready. */
async function finishEnd(root: StateRoot, adopted: Adopted, end: VethPairEnd): Promise<InterfaceRecord> {
  const key = end.key ?? end.name;
  // No unsolicited ARP/NA: both ends are new links, so no neighbour on them has an address cached
  // (and the sender's packet socket costs an RCU grace period to close).
  const iface = await adopted.sandbox.addInterface(end.name, 'eth', {
    createdInContainer: true, dstName: end.name, ipv4: end.ipv4, ipv6: end.ipv6, advertiseAddrNMsgs: 0,
  });
  const done = root.records.update(end.sandbox, (c) => {
    const r = c.interfaces.find((i) => i.srcName === key);
    if (r === undefined) return;
    r.state = 'ready';
    if (iface.address === undefined) delete r.options.ipv4;
    if (iface.addressIPv6 === undefined) delete r.options.ipv6;
  });
  return done!.config.interfaces.find((i) => i.srcName === key)!;
}

async function makePair(root: StateRoot, a: VethPairEnd, b: VethPairEnd): Promise<VethPair> {
  const recA = requireReady(root, a.sandbox);
  const recB = requireReady(root, b.sandbox);
  checkFree(recA, a);
  checkFree(recB, b);
  const adoptedA = await adopt(recA);
  try {
    const adoptedB = await adopt(recB);
    try {
      root.records.update(a.sandbox, (c) => { c.interfaces.push(rowOf(a, b)); });
      root.records.update(b.sandbox, (c) => { c.interfaces.push(rowOf(b, a)); });
      await pausePoint('veth-pair:recorded');
      let made = false;
      try {
        // Sent from inside a's namespace: the first end is born there, the peer in b's.
        await adoptedA.sandbox.netlink.link.add({
          name: a.name, kind: 'veth', numTxQueues: 1, numRxQueues: 1,
          ...(a.mtu === undefined ? {} : { mtu: a.mtu }), ...(a.mac === undefined ? {} : { address: a.mac }),
          peer: {
            name: b.name, netnsFd: adoptedB.sandbox.netnsFd, numTxQueues: 1, numRxQueues: 1,
            ...(b.mtu === undefined ? {} : { mtu: b.mtu }), ...(b.mac === undefined ? {} : { address: b.mac }),
          },
        });
        made = true;
        await pausePoint('veth-pair:kernel');
        const rowA = await finishEnd(root, adoptedA, a);
        await pausePoint('veth-pair:one-end');
        const rowB = await finishEnd(root, adoptedB, b);
        return { a: rowA, b: rowB };
      } catch (err) {
        // Deleting one end deletes the pair; then both rows go.
        if (made) await adoptedA.sandbox.netlink.link.del({ name: a.name }).catch(() => undefined);
        dropRow(root, a);
        dropRow(root, b);
        throw err;
      }
    } finally {
      adoptedB.sandbox.close();
    }
  } finally {
    adoptedA.sandbox.close();
  }
}

/**
 * Make a veth pair between sandboxes `a.sandbox` and `b.sandbox`, born in their namespaces with
 * its final names, MTUs and MACs, then addressed and up: all or nothing, recorded in both.
 */
export async function addVethPair(root: StateRoot, a: VethPairEnd, b: VethPairEnd): Promise<VethPair> {
  checkEnd(a);
  checkEnd(b);
  if (a.sandbox === b.sandbox) throw new NsboxError(`both ends of a veth pair are in sandbox ${a.sandbox}: a pair joins two sandboxes`, 'NSBOX_ERR_CONFIG');
  const [first, second] = a.sandbox < b.sandbox ? [a.sandbox, b.sandbox] : [b.sandbox, a.sandbox];
  const pair = await root.locked(first, () => root.locked(second, () => makePair(root, a, b)));
  refreshNames(root, { sandboxes: [a.sandbox, b.sandbox] }); // their own names for the new addresses
  return pair;
}
