/**
 * Layer: netlink/route/ops — rtnetlink operations.
 *
 * Routes (RTM_*ROUTE): add, replace, delete, list, and the kernel's route lookup. Defaults
 * follow iproute2: table main, protocol boot, type unicast, scope link for a route with no
 * gateway and universe otherwise; a delete matches any protocol, type and scope.
 *
 * NSBOX_ROUTE_PROTOCOL tags the routes nsbox owns (the overlay's routes to remote hosts), so a
 * reconcile lists and removes its own routes and nobody else's: 110, unassigned in iproute2's
 * rt_protos and <linux/rtnetlink.h> (0–4 kernel, 8–18 routing daemons, 42 babel, 99 openr,
 * 186–192 bgp/isis/ospf/rip/eigrp) and not one the common CNI agents use (docs/overlay.md).
 */
import type { NetlinkSocket, RequestOptions } from '../../socket.js';
import { NLM_F } from '../../wire/header.js';
import { AF, RTM, RTN, RTNH_F, RTPROT, RT_SCOPE, RT_TABLE } from '../schema/constants.js';
import { decodeRouteMessage, encodeRouteMessage, type RouteMessage } from '../schema/route.js';
import { cidrText, parseCidr, parseIp } from '../../../net/cidr.js';
import { enumCodec } from '../../wire/enum-codec.js';
import { NetlinkError } from '../../../errors.js';
import { errnoNumber } from '../../../errno.js';
import { scopeNumber, type Scope } from './addr.js';
import type { AttrWriter } from '../../wire/attr.js';

/** rtm_protocol of the routes nsbox owns (`ip route show proto 110`). */
export const NSBOX_ROUTE_PROTOCOL = 110;

/** A route as the kernel reports it; `dst` is 'default' or 'ip/prefix'. */
export type Route = RouteMessage & { destination: string };

export type RouteType = 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw';

const ROUTE_TYPES = enumCodec<RouteType>({
  unicast: RTN.UNICAST, local: RTN.LOCAL, broadcast: RTN.BROADCAST, anycast: RTN.ANYCAST, multicast: RTN.MULTICAST,
  blackhole: RTN.BLACKHOLE, unreachable: RTN.UNREACHABLE, prohibit: RTN.PROHIBIT, throw: RTN.THROW,
});

export interface RouteOptions {
  /** 'ip/prefix', or 'default' / undefined for the default route. */
  dst?: string;
  gateway?: string;
  /** Output ifindex (`dev`). */
  oif?: number;
  table?: number;
  /** `metric` / RTA_PRIORITY. */
  metric?: number;
  scope?: Scope;
  type?: RouteType;
  protocol?: number;
  prefsrc?: string;
  /** `onlink`: the gateway is on `oif` whatever its addresses say (RTNH_F_ONLINK; needs oif and gateway). */
  onlink?: boolean;
  /** Needed only when neither dst nor gateway tell (e.g. `default dev X` for IPv6). */
  family?: 4 | 6;
}

export interface RouteListOptions {
  family?: 4 | 6;
  /** A table id, or 'all'. Default: main, as `ip route show`. */
  table?: number | 'all';
  oif?: number;
  /** Only routes of this rtm_protocol (`ip route show proto P`). */
  protocol?: number;
}

export interface RouteGetOptions {
  dst: string;
  src?: string;
  iif?: number;
  oif?: number;
}

function buildMessage(o: RouteOptions, forDelete: boolean): RouteMessage {
  const dst = o.dst === undefined || o.dst === 'default' ? undefined : parseCidr(o.dst, 'route destination');
  const gw = o.gateway === undefined ? undefined : parseIp(o.gateway, 'gateway');
  const family = dst?.family ?? gw?.family ?? o.family;
  if (family === undefined) throw new TypeError('route family unknown: give dst, gateway or family');
  if (gw && gw.family !== family) throw new TypeError(`gateway ${o.gateway} is not in the address family of ${o.dst}`);
  if (o.onlink && (gw === undefined || o.oif === undefined)) throw new TypeError('an onlink route needs a gateway and oif');
  const type = o.type === undefined ? RTN.UNICAST : ROUTE_TYPES.encode(o.type, 'route type');
  let scope: number;
  if (o.scope !== undefined) scope = scopeNumber(o.scope);
  else if (forDelete) scope = RT_SCOPE.NOWHERE;
  else if (type === RTN.LOCAL) scope = RT_SCOPE.HOST;
  else if (type === RTN.BROADCAST || type === RTN.MULTICAST || type === RTN.ANYCAST) scope = RT_SCOPE.LINK;
  else if (type === RTN.UNICAST && gw === undefined) scope = RT_SCOPE.LINK;
  else scope = RT_SCOPE.UNIVERSE;
  return {
    family: family === 4 ? AF.INET : AF.INET6,
    dstLen: dst?.prefixLen ?? 0,
    table: o.table ?? RT_TABLE.MAIN,
    protocol: o.protocol ?? (forDelete ? RTPROT.UNSPEC : RTPROT.BOOT),
    scope,
    type: forDelete && o.type === undefined ? RTN.UNSPEC : type,
    dst: dst?.address,
    gateway: gw?.address,
    oif: o.oif,
    priority: o.metric,
    prefsrc: o.prefsrc,
    flags: o.onlink ? RTNH_F.ONLINK : undefined,
  };
}

export function toRoute(m: RouteMessage): Route {
  return { ...m, destination: m.dst === undefined ? 'default' : cidrText({ address: m.dst, prefixLen: m.dstLen }) };
}

/** How many messages replaceMany/delMany put in one datagram. */
export const ROUTE_BATCH_SIZE = 256;

export class RouteOps {
  readonly #socket: NetlinkSocket;

  constructor(socket: NetlinkSocket) {
    this.#socket = socket;
  }

  /** `ip route add DST [via GW] [dev DEV] [table T] [metric M] [scope S] [type]`. EEXIST if present. */
  async add(options: RouteOptions, req?: RequestOptions): Promise<void> {
    const msg = buildMessage(options, false);
    await this.#socket.request(RTM.NEWROUTE, NLM_F.CREATE | NLM_F.EXCL, (w) => encodeRouteMessage(w, msg), undefined, req);
  }

  /** `ip route append …`: beside routes to the same destination (another default route), never EEXIST. */
  async append(options: RouteOptions, req?: RequestOptions): Promise<void> {
    const msg = buildMessage(options, false);
    await this.#socket.request(RTM.NEWROUTE, NLM_F.CREATE | NLM_F.APPEND, (w) => encodeRouteMessage(w, msg), undefined, req);
  }

  /** `ip route replace …`. */
  async replace(options: RouteOptions, req?: RequestOptions): Promise<void> {
    const msg = buildMessage(options, false);
    await this.#socket.request(RTM.NEWROUTE, NLM_F.CREATE | NLM_F.REPLACE, (w) => encodeRouteMessage(w, msg), undefined, req);
  }

  /** `ip route del …`: fields left out match anything. ESRCH if no route matches. */
  async del(options: RouteOptions, req?: RequestOptions): Promise<void> {
    const msg = buildMessage(options, true);
    await this.#socket.request(RTM.DELROUTE, 0, (w) => encodeRouteMessage(w, msg), undefined, req);
  }

  /** `replace` of many routes, ROUTE_BATCH_SIZE to a datagram (`ip -batch`); all checked before anything is sent, the first refusal rejects. */
  async replaceMany(routes: readonly RouteOptions[], req?: RequestOptions): Promise<void> {
    const msgs = routes.map((o) => buildMessage(o, false));
    for (let at = 0; at < msgs.length; at += ROUTE_BATCH_SIZE) {
      await this.#socket.requestBatch(msgs.slice(at, at + ROUTE_BATCH_SIZE).map((m) => ({
        type: RTM.NEWROUTE, flags: NLM_F.CREATE | NLM_F.REPLACE, body: (w: AttrWriter) => encodeRouteMessage(w, m),
      })), req);
    }
  }

  /** `del` of many routes, ROUTE_BATCH_SIZE to a datagram; one already gone (ESRCH) is counted as gone, not an error. */
  async delMany(routes: readonly RouteOptions[], req?: RequestOptions): Promise<{ deleted: number; gone: number }> {
    const msgs = routes.map((o) => buildMessage(o, true));
    const report = { deleted: 0, gone: 0 };
    for (let at = 0; at < msgs.length; at += ROUTE_BATCH_SIZE) {
      const replies = await this.#socket.requestBatch(msgs.slice(at, at + ROUTE_BATCH_SIZE).map((m) => ({
        type: RTM.DELROUTE, body: (w: AttrWriter) => encodeRouteMessage(w, m), tolerate: (e: NetlinkError) => (e.code === 'ESRCH' ? 'gone' : undefined),
      })), req);
      for (const r of replies) {
        if (r.length === 0) report.deleted++;
        else report.gone++;
      }
    }
    return report;
  }

  /** `ip route show [table T] [dev DEV]` (`ip -6 route show`). */
  async list(options: RouteListOptions = {}, req?: RequestOptions): Promise<Route[]> {
    const family = options.family === 4 ? AF.INET : options.family === 6 ? AF.INET6 : AF.UNSPEC;
    const table = options.table ?? RT_TABLE.MAIN;
    // The kernel filters by table and oif itself (strict dump checking is on); the same
    // checks below keep the result right on kernels that ignore the request's filter.
    const filter: RouteMessage = { family, dstLen: 0, table: table === 'all' ? undefined : table, oif: options.oif };
    try {
      return await this.#socket.dump(RTM.GETROUTE, (w) => encodeRouteMessage(w, filter), (m) => {
        const r = decodeRouteMessage(m.payload);
        if (table !== 'all' && r.table !== table) return undefined;
        if (options.oif !== undefined && r.oif !== options.oif) return undefined;
        if (options.protocol !== undefined && r.protocol !== options.protocol) return undefined;
        return toRoute(r);
      }, req);
    } catch (err) {
      // A filter the kernel cannot apply means nothing matches: a table that does not exist
      // (yet: a fresh namespace has no main table until lo is up), or an oif that is gone.
      const code = err instanceof NetlinkError ? err.code : undefined;
      if ((code === 'ENOENT' && filter.table !== undefined) || (code === 'ENODEV' && filter.oif !== undefined)) return [];
      throw err;
    }
  }

  /** `ip route get DST [from SRC] [iif DEV] [oif DEV]`: the kernel's route lookup. */
  async get(options: RouteGetOptions, req?: RequestOptions): Promise<Route> {
    const dst = parseIp(options.dst, 'destination');
    const src = options.src === undefined ? undefined : parseIp(options.src, 'source');
    const msg: RouteMessage = {
      family: dst.family === 4 ? AF.INET : AF.INET6,
      dstLen: dst.family === 4 ? 32 : 128,
      srcLen: src === undefined ? 0 : src.family === 4 ? 32 : 128,
      dst: dst.address,
      src: src?.address,
      iif: options.iif,
      oif: options.oif,
    };
    const [route] = await this.#socket.request(RTM.GETROUTE, 0, (w) => encodeRouteMessage(w, msg), (m) => toRoute(decodeRouteMessage(m.payload)), req);
    if (route === undefined) throw new NetlinkError(errnoNumber('EHOSTUNREACH'), 'RTM_GETROUTE', { message: `the kernel returned no route for ${options.dst}` });
    return route;
  }
}
