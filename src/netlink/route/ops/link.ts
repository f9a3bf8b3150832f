/**
 * Layer: netlink/route/ops — rtnetlink operations.
 *
 * Links (RTM_*LINK): add, delete, change, get, list, statistics. Each operation names its
 * iproute2 equivalent.
 */
import type { NetlinkSocket, RequestOptions } from '../../socket.js';
import { NLM_F } from '../../wire/header.js';
import { AF, IFF, IN6_ADDR_GEN_MODE, RTEXT_FILTER, RTM } from '../schema/constants.js';
import {
  NO_STATS, decodeLinkMessage, encodeLinkMessage, type LinkInfo, type LinkMessage, type LinkStats64,
} from '../schema/link.js';
import { NetlinkError } from '../../../errors.js';
import { errnoNumber } from '../../../errno.js';
import { enumCodec } from '../../wire/enum-codec.js';
import { checkLinkName, checkRef, describeRef, type LinkRef } from './ref.js';

/** A link as the kernel reports it (`ip -d -s link show`). */
export type Link = LinkMessage & { index: number; name: string; flags: number };

/** How IPv6 link-local addresses are made (`ip link set DEV addrgenmode MODE`); 'none' makes none. */
export type AddrGenMode = 'eui64' | 'none' | 'stable-privacy' | 'random';

const ADDR_GEN_MODES = enumCodec<AddrGenMode>({
  eui64: IN6_ADDR_GEN_MODE.EUI64, none: IN6_ADDR_GEN_MODE.NONE, 'stable-privacy': IN6_ADDR_GEN_MODE.STABLE_PRIVACY, random: IN6_ADDR_GEN_MODE.RANDOM,
});

function addrGenModeNumber(mode: AddrGenMode | undefined): number | undefined {
  return mode === undefined ? undefined : ADDR_GEN_MODES.encode(mode, 'addrGenMode');
}

/** Options shared by every link kind when adding one. */
export interface LinkCommonOptions {
  name: string;
  mtu?: number;
  address?: string;
  txqlen?: number;
  /**
   * IFLA_GROUP (`ip link add … group G`). Not `group`: that is vxlan's multicast group, and the
   * two would intersect to an impossible type.
   */
  linkGroup?: number;
  /** The lower device (`ip link add link DEV …`): the parent ifindex of a macvlan/ipvlan. */
  link?: number;
  /** Enslave to this bridge/bond (an ifindex in the namespace the link is created in). */
  master?: number;
  /** Create the link up. */
  up?: boolean;
  /**
   * Transmit/receive queues to allocate (`numtxqueues`/`numrxqueues`); for a veth they apply
   * to the peer too unless it names its own. A veth left to the kernel's default (one per
   * CPU, then cut to one in use) costs two expedited RCU grace periods per end: 1 is the
   * fast choice unless the link will get more channels later (`ethtool -L`).
   */
  numTxQueues?: number;
  numRxQueues?: number;
  /** Create the link directly in the namespace behind this fd (IFLA_NET_NS_FD). */
  netnsFd?: number;
  /**
   * IPv6 link-local generation for this link. The kernel refuses it in a create request, so
   * the link is created down, given the mode, then brought up if `up` — 'none' keeps a
   * bridge port from ever sending DAD, MLD or router solicitations onto the bridge.
   */
  addrGenMode?: AddrGenMode;
  /** An ifalias (`ip link set DEV alias TEXT`), set right after creation. */
  alias?: string;
}

/** `ip link add NAME [mtu M] [address A] [master B] [up] [netns NS] type KIND …`. */
export type LinkAddOptions = LinkCommonOptions & LinkInfo;

/** What `link.set` can change (`ip link set`). */
export interface LinkSetOptions {
  up?: boolean;
  name?: string;
  mtu?: number;
  address?: string;
  /** A bridge/bond ifindex, or null to release (`nomaster`). */
  master?: number | null;
  /** Move the link to the namespace behind this fd (`ip link set X netns NS`). */
  netnsFd?: number;
  txqlen?: number;
  group?: number;
  alias?: string;
  addrGenMode?: AddrGenMode;
  /** Settings of the link as a bridge port (`ip link set DEV type bridge_slave hairpin on`). */
  bridgePort?: { hairpin?: boolean; learning?: boolean };
}

export interface LinkListOptions {
  /** Only links enslaved to this ifindex (`ip link show master BR`). */
  master?: number;
  /** Only links of this kind (`ip link show type veth`). */
  kind?: string;
}

function toLink(msg: LinkMessage): Link {
  return msg as Link;
}

/** Options of link.get / link.find. */
export interface LinkGetOptions extends RequestOptions {
  /** Include the 64-bit counters (default true); false skips them and the per-protocol statistics. */
  stats?: boolean;
}

export class LinkOps {
  readonly #socket: NetlinkSocket;

  constructor(socket: NetlinkSocket) {
    this.#socket = socket;
  }

  /** `ip link add NAME type KIND …`: create a link. A veth peer may be born in another netns. */
  async add(options: LinkAddOptions, req?: RequestOptions): Promise<void> {
    const { name, mtu, address, txqlen, linkGroup, link, master, up, netnsFd, addrGenMode, alias, numTxQueues, numRxQueues, ...rest } = options;
    let info = rest as LinkInfo;
    if (info.kind === 'veth' && (numTxQueues !== undefined || numRxQueues !== undefined)) {
      const peer = (info as Extract<LinkInfo, { kind: 'veth' }>).peer ?? {};
      info = { ...info, peer: { numTxQueues, numRxQueues, ...peer } } as LinkInfo;
    }
    checkLinkName(name);
    const peerName = info.kind === 'veth' ? (info as Extract<LinkInfo, { kind: 'veth' }>).peer?.name : undefined;
    if (peerName !== undefined) checkLinkName(peerName, 'veth peer name');
    const mode = addrGenModeNumber(addrGenMode);
    const followUp = mode !== undefined || alias !== undefined;
    if (followUp && netnsFd !== undefined) {
      throw new TypeError('addrGenMode/alias with netnsFd: set them from a handle in the target namespace (link.set)');
    }
    // A new veth end has no carrier while its peer is down (peers are born down), and IPv6
    // makes link-local addresses only once there is carrier: such a veth may go up at once
    // and get its mode in the follow-up. Anything else goes up after the mode is set.
    const vethPeerDown = info.kind === 'veth' && !((info as Extract<LinkInfo, { kind: 'veth' }>).peer?.flags ?? 0);
    const upNow = up === true && (mode === undefined || vethPeerDown);
    const msg: LinkMessage = {
      family: AF.UNSPEC, name, mtu, address, txqlen, numTxQueues, numRxQueues, group: linkGroup, link, master, netnsFd,
      flags: upNow ? IFF.UP : 0, change: upNow ? IFF.UP : 0, info,
    };
    await this.#socket.request(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, (w) => encodeLinkMessage(w, msg), undefined, req);
    if (!followUp) return;
    try {
      // The kernel takes neither in a create request. The mode must be in place before the
      // link goes up, when link-local addresses are made.
      await this.#socket.request(RTM.NEWLINK, 0, (w) => encodeLinkMessage(w, { family: AF.UNSPEC, name, addrGenMode: mode, alias }), undefined, req);
      if (up && !upNow) await this.set({ name }, { up: true }, req);
    } catch (err) {
      await this.del({ name }).catch(() => undefined); // leave nothing half made
      throw err;
    }
  }

  /** `ip link del DEV`. */
  async del(ref: LinkRef, req?: RequestOptions): Promise<void> {
    checkRef(ref);
    const msg: LinkMessage = 'index' in ref ? { family: AF.UNSPEC, index: ref.index } : { family: AF.UNSPEC, name: ref.name };
    await this.#socket.request(RTM.DELLINK, 0, (w) => encodeLinkMessage(w, msg), undefined, req);
  }

  /**
   * `ip link set DEV [up|down] [name N] [mtu M] [address A] [master B|nomaster] [netns NS]`.
   * All changes go in one request, so they apply together or not at all.
   */
  async set(ref: LinkRef, changes: LinkSetOptions, req?: RequestOptions): Promise<void> {
    checkRef(ref);
    if (changes.addrGenMode !== undefined && changes.up === true) {
      // The kernel applies flags before IFLA_AF_SPEC: set the mode first, then bring it up.
      const { up: _up, ...rest } = changes;
      await this.set(ref, rest, req);
      await this.set(changes.name === undefined ? ref : { name: changes.name }, { up: true }, req);
      return;
    }
    if (changes.name !== undefined) checkLinkName(changes.name, 'new link name');
    let index: number;
    let lookupName: string | undefined;
    if ('index' in ref) {
      index = ref.index;
    } else if (changes.name !== undefined) {
      index = (await this.get(ref, req)).index; // IFLA_IFNAME would be read as the new name
    } else {
      index = 0;
      lookupName = ref.name;
    }
    const msg: LinkMessage = {
      family: AF.UNSPEC,
      index,
      name: changes.name ?? lookupName,
      flags: changes.up === true ? IFF.UP : 0,
      change: changes.up === undefined ? 0 : IFF.UP,
      mtu: changes.mtu,
      address: changes.address,
      master: changes.master === null ? 0 : changes.master,
      netnsFd: changes.netnsFd,
      txqlen: changes.txqlen,
      group: changes.group,
      alias: changes.alias,
      addrGenMode: addrGenModeNumber(changes.addrGenMode),
      bridgePort: changes.bridgePort,
    };
    await this.#socket.request(RTM.NEWLINK, 0, (w) => encodeLinkMessage(w, msg), undefined, req);
  }

  /**
   * `ip -d -s link show DEV`: one link, with its kind data and 64-bit statistics. With
   * `stats: false`, for callers that only need the link's identity, the counters are not
   * decoded (the kernel sends IFLA_STATS64 regardless) and the kernel leaves out its
   * per-protocol statistics (RTEXT_FILTER_SKIP_STATS; kernels without a 2025 fix, which
   * went to the stable series too, also leave out the IPv6 token and `addrGenMode` then).
   */
  async get(ref: LinkRef, req?: LinkGetOptions): Promise<Link> {
    checkRef(ref);
    const msg: LinkMessage = 'index' in ref ? { family: AF.UNSPEC, index: ref.index } : { family: AF.UNSPEC, name: ref.name };
    const lean = req?.stats === false;
    if (lean) msg.extMask = RTEXT_FILTER.SKIP_STATS;
    const decodeOptions = lean ? NO_STATS : undefined;
    const [link] = await this.#socket.request(RTM.GETLINK, 0, (w) => encodeLinkMessage(w, msg), (m) => toLink(decodeLinkMessage(m.payload, decodeOptions)), req);
    if (link === undefined) throw new NetlinkError(errnoNumber('ENODEV'), `RTM_GETLINK ${describeRef(ref)}`);
    return link;
  }

  /** Like get, but undefined when the link does not exist (ENODEV). */
  async find(ref: LinkRef, req?: LinkGetOptions): Promise<Link | undefined> {
    try {
      return await this.get(ref, req);
    } catch (err) {
      if (err instanceof NetlinkError && err.code === 'ENODEV') return undefined;
      throw err;
    }
  }

  /** `ip -d link show [master B] [type K]`: every link in the namespace, in kernel order. */
  async list(options: LinkListOptions = {}, req?: RequestOptions): Promise<Link[]> {
    const filter: LinkMessage = { family: AF.UNSPEC, master: options.master };
    if (options.kind !== undefined) filter.info = { kind: options.kind } as LinkInfo;
    return this.#socket.dump(RTM.GETLINK, (w) => encodeLinkMessage(w, filter), (m) => toLink(decodeLinkMessage(m.payload)), req);
  }

  /** `ip -s link show DEV`: the 64-bit counters (IFLA_STATS64). */
  async stats(ref: LinkRef, req?: RequestOptions): Promise<LinkStats64> {
    const link = await this.get(ref, req);
    if (link.stats64 === undefined) throw new NetlinkError(errnoNumber('ENODATA'), `RTM_GETLINK ${describeRef(ref)} (no statistics were returned)`);
    return link.stats64;
  }
}
