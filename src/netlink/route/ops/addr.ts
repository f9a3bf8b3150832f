/**
 * Layer: netlink/route/ops — rtnetlink operations.
 *
 * Addresses (RTM_*ADDR): add, delete, replace, list. IPv4 and IPv6.
 */
import type { NetlinkSocket, RequestOptions } from '../../socket.js';
import { NLM_F } from '../../wire/header.js';
import { AF, IFA_F, RTM, RT_SCOPE } from '../schema/constants.js';
import { decodeAddrMessage, encodeAddrMessage, type AddrMessage } from '../schema/addr.js';
import { cidrText, parseCidr } from '../../../net/cidr.js';

/** An address as the kernel reports it (`ip -j addr show`). `cidr` is 'local/prefixLen'. */
export type Address = AddrMessage & { cidr: string };

export type Scope = 'global' | 'site' | 'link' | 'host' | number;

export interface AddressOptions {
  /** ifindex of the link. */
  index: number;
  /** 'ip/prefix', e.g. '10.0.0.2/24' or '2001:db8::2/64'. */
  address: string;
  label?: string;
  scope?: Scope;
  /** IFA_F_NODAD: skip duplicate address detection (IPv6). */
  nodad?: boolean;
  /** IFA_F_NOPREFIXROUTE: do not add the prefix route. */
  noprefixroute?: boolean;
  /** Extra IFA_F_* bits. */
  flags?: number;
  broadcast?: string;
}

export interface AddressListOptions {
  index?: number;
  family?: 4 | 6;
}

export function scopeNumber(scope: Scope | undefined): number {
  switch (scope) {
    case undefined: case 'global': return RT_SCOPE.UNIVERSE;
    case 'site': return RT_SCOPE.SITE;
    case 'link': return RT_SCOPE.LINK;
    case 'host': return RT_SCOPE.HOST;
    default:
      if (Number.isInteger(scope) && scope >= 0 && scope <= 255) return scope;
      throw new TypeError(`invalid scope ${String(scope)}: global, site, link, host or 0..255`);
  }
}

function toMessage(o: AddressOptions): AddrMessage {
  if (!Number.isInteger(o.index) || o.index <= 0) throw new TypeError(`invalid link index ${String(o.index)}`);
  const cidr = parseCidr(o.address);
  let flags = o.flags ?? 0;
  if (o.nodad) flags |= IFA_F.NODAD;
  if (o.noprefixroute) flags |= IFA_F.NOPREFIXROUTE;
  return {
    family: cidr.family === 4 ? AF.INET : AF.INET6,
    prefixLen: cidr.prefixLen,
    flags,
    scope: scopeNumber(o.scope),
    index: o.index,
    local: cidr.address,
    address: cidr.address,
    label: o.label,
    broadcast: o.broadcast,
  };
}

export function toAddress(m: AddrMessage): Address {
  return { ...m, cidr: cidrText({ address: m.local ?? m.address ?? '', prefixLen: m.prefixLen }) };
}

export class AddrOps {
  readonly #socket: NetlinkSocket;

  constructor(socket: NetlinkSocket) {
    this.#socket = socket;
  }

  /** `ip addr add CIDR dev DEV [label L] [scope S] [nodad] [noprefixroute]`. EEXIST if present. */
  async add(options: AddressOptions, req?: RequestOptions): Promise<void> {
    const msg = toMessage(options);
    await this.#socket.request(RTM.NEWADDR, NLM_F.CREATE | NLM_F.EXCL, (w) => encodeAddrMessage(w, msg), undefined, req);
  }

  /** `ip addr replace CIDR dev DEV …`: add, or update flags/label of an existing address. */
  async replace(options: AddressOptions, req?: RequestOptions): Promise<void> {
    const msg = toMessage(options);
    await this.#socket.request(RTM.NEWADDR, NLM_F.CREATE | NLM_F.REPLACE, (w) => encodeAddrMessage(w, msg), undefined, req);
  }

  /** `ip addr del CIDR dev DEV`. EADDRNOTAVAIL if absent. */
  async del(options: Pick<AddressOptions, 'index' | 'address'>, req?: RequestOptions): Promise<void> {
    const msg = toMessage(options);
    delete msg.label;
    await this.#socket.request(RTM.DELADDR, 0, (w) => encodeAddrMessage(w, msg), undefined, req);
  }

  /** `ip addr show [dev DEV]` (`ip -4`/`-6` for a family). */
  async list(options: AddressListOptions = {}, req?: RequestOptions): Promise<Address[]> {
    const family = options.family === 4 ? AF.INET : options.family === 6 ? AF.INET6 : AF.UNSPEC;
    const filter: AddrMessage = { family, prefixLen: 0, index: options.index ?? 0 };
    return this.#socket.dump(RTM.GETADDR, (w) => encodeAddrMessage(w, filter), (m) => {
      const a = decodeAddrMessage(m.payload);
      if (options.index !== undefined && a.index !== options.index) return undefined;
      return toAddress(a);
    }, req);
  }
}
