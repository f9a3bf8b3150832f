/**
 * Layer: sandbox.
 *
 * Unsolicited ARP and IPv6 Neighbour Advertisements after an interface comes up (osl
 * advertiseAddrs), so neighbours drop stale cache entries when an address moves to a new MAC.
 * The sockets are made inside the sandbox natively; the first message is sent at once, the
 * rest on unref'd timers that the interface's removal cancels. Failures are only logged.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AF_INET6, AF_PACKET, ETH_P_ARP, ETH_P_IP, ICMP6_FILTER, IPPROTO_ICMPV6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_IF,
  SOCK_DGRAM, SOCK_RAW, bind, close, closeInBackground, send, setsockoptBytes, setsockoptInt, socketIn,
} from '../sys/index.js';
import { NetlinkError, SandboxError } from '../errors.js';
import { NO_STATS, type Link, type Rtnl } from '../netlink/route/ops/index.js';
import { ARPHRD } from '../netlink/route/schema/constants.js';
import { encodeIp, encodeMac, isEthernetMac } from '../netlink/wire/attr.js';
import { stopSignal, type InterfaceState } from './interface.js';
import { debug } from './log.js';

const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
/** <net/if_arp.h> ARPOP_REQUEST. */
const ARPOP_REQUEST = 1;
/** <netinet/icmp6.h>: the Neighbour Advertisement type, its Override flag, the target link-layer option. */
const ND_NEIGHBOR_ADVERT = 136;
const ND_NA_FLAG_OVERRIDE = 0x20;
const ND_OPT_TARGET_LINKADDR = 2;

/** struct sockaddr_ll for a broadcast ARP frame out of `ifindex`. */
function sockaddrLl(ifindex: number): Uint8Array {
  const out = new Uint8Array(20);
  const v = new DataView(out.buffer);
  v.setUint16(0, AF_PACKET, true);
  v.setUint16(2, ETH_P_ARP, false);
  v.setInt32(4, ifindex, true);
  out[11] = 6;
  out.set(BROADCAST_MAC, 12);
  return out;
}

/** struct sockaddr_in6. */
function sockaddrIn6(address: string, scopeId: number): Uint8Array {
  const out = new Uint8Array(28);
  const v = new DataView(out.buffer);
  v.setUint16(0, AF_INET6, true);
  out.set(encodeIp(address), 8);
  v.setUint32(24, scopeId, true);
  return out;
}

/** A gratuitous ARP request: sender = target = ip. */
export function arpPacket(mac: string, ip: string): Uint8Array {
  const out = new Uint8Array(28);
  const v = new DataView(out.buffer);
  v.setUint16(0, ARPHRD.ETHER, false);
  v.setUint16(2, ETH_P_IP, false);
  out[4] = 6;
  out[5] = 4;
  v.setUint16(6, ARPOP_REQUEST, false);
  out.set(encodeMac(mac), 8);
  out.set(encodeIp(ip), 14);
  out.set(encodeIp(ip), 24);
  return out;
}

/** An unsolicited Neighbour Advertisement (Override flag, target link-layer option). */
export function naPacket(mac: string, ip: string): Uint8Array {
  const out = new Uint8Array(32);
  out[0] = ND_NEIGHBOR_ADVERT;
  out[4] = ND_NA_FLAG_OVERRIDE;
  out.set(encodeIp(ip), 8);
  out[24] = ND_OPT_TARGET_LINKADDR;
  out[25] = 1; // option length in units of 8 bytes
  out.set(encodeMac(mac), 26);
  return out;
}

interface Senders {
  arp: number | undefined;
  na: number | undefined;
}

function openSenders(nsFd: number, ifindex: number, st: InterfaceState): Senders {
  const s: Senders = { arp: undefined, na: undefined };
  try {
    if (st.ipv4) s.arp = socketIn(nsFd, AF_PACKET, SOCK_DGRAM, 0);
    if (st.ipv6) {
      s.na = socketIn(nsFd, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
      setsockoptBytes(s.na, IPPROTO_ICMPV6, ICMP6_FILTER, new Uint8Array(32).fill(0xff));
      setsockoptInt(s.na, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255);
      setsockoptInt(s.na, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex);
      const ll = st.ipv6.address.toLowerCase().startsWith('fe80:');
      bind(s.na, sockaddrIn6(st.ipv6.address, ll ? ifindex : 0));
    }
  } catch (err) {
    closeSenders(s);
    throw err;
  }
  return s;
}

function closeSenders(s: Senders): void {
  // An AF_PACKET socket's close waits for an RCU grace period (10–19 ms): it was most of a
  // `nsbox run`'s connect, whose adopted sandbox closes right after the first message.
  if (s.arp !== undefined) closeInBackground(s.arp);
  if (s.na !== undefined) close(s.na);
  s.arp = s.na = undefined;
}

/**
 * Wait (≤ 200 ms) until the host-side bridge port of a veth forwards (osl waitForBridgePort).
 * Read over netlink (IFLA_BRPORT_STATE), not /sys/class/net: sysfs shows the namespace that
 * mounted it, which is not the host's when nsbox runs under `nsenter --net` (a root as a host).
 */
export async function waitForBridgePort(host: Rtnl, link: Link): Promise<void> {
  if (link.info?.kind !== 'veth' || link.link === undefined || link.linkNetnsId === undefined) return;
  const peer = await host.link.find({ index: link.link }, NO_STATS);
  if (peer === undefined || !peer.master) return;
  const bridge = await host.link.find({ index: peer.master }, NO_STATS);
  if (bridge === undefined) return;
  if (bridge.info?.kind === 'bridge' && bridge.info.stpState !== undefined && bridge.info.stpState !== 0) return;
  for (let waited = 0; waited <= 200; waited += 10) {
    const port = await host.link.find({ index: peer.index }, NO_STATS);
    // BR_STATE_FORWARDING = 3; a port with no state reported is not waited for
    if (port?.bridgePort?.state === undefined || port.bridgePort.state === 3) return;
    await sleep(10);
  }
  debug('bridge port %s of %s did not reach the forwarding state in 200 ms', peer.name, bridge.name);
}

/** Wait (≤ 200 ms) for the ff02::1 route on the link (osl waitForMcastRoute). */
export async function waitForMcastRoute(rtnl: Rtnl, ifindex: number, st: InterfaceState): Promise<boolean> {
  if (!st.ipv6 || st.advertiseAddrNMsgs === 0) return true;
  for (let waited = 0; waited <= 200; waited += 10) {
    try {
      await rtnl.route.get({ dst: 'ff02::1', src: '::1', iif: ifindex });
      return true;
    } catch (err) {
      if (err instanceof NetlinkError && err.code === 'EMSGSIZE') return true;
    }
    await sleep(10);
  }
  return false;
}

/**
 * Send the unsolicited ARP/NA messages for an interface that is up (osl advertiseAddrs).
 * Never throws: problems are logged, as upstream.
 */
export async function advertiseAddrs(rtnl: Rtnl, nsFd: number, link: Link, st: InterfaceState, mcastRoute: boolean): Promise<void> {
  const mac = st.mac ?? link.address;
  if ((!st.ipv4 && !st.ipv6) || mac === undefined || st.advertiseAddrNMsgs === 0 || !isEthernetMac(mac)) return;
  let senders: Senders;
  try {
    senders = openSenders(nsFd, link.index, st);
  } catch (err) {
    debug('cannot create ARP/NA senders for %s: %s', st.dstName, (err as Error).message);
    return;
  }
  const sendOnce = async (): Promise<void> => {
    const now = await rtnl.link.get({ index: link.index }, NO_STATS);
    if (now.address !== mac) throw new SandboxError(`MAC address of ${st.dstName} changed from ${mac} to ${now.address ?? 'none'}`, 'NSBOX_ERR_SANDBOX');
    if (senders.arp !== undefined && st.ipv4) send(senders.arp, arpPacket(mac, st.ipv4.address), sockaddrLl(link.index));
    if (senders.na !== undefined && st.ipv6) {
      try {
        send(senders.na, naPacket(mac, st.ipv6.address), sockaddrIn6('ff02::1', link.index));
      } catch (err) {
        if (!(mcastRoute === false && (err as { code?: string }).code === 'ENETUNREACH')) throw err;
      }
    }
  };
  try {
    await sendOnce();
  } catch (err) {
    debug('failed to send unsolicited ARP/NA for %s: %s', st.dstName, (err as Error).message);
    closeSenders(senders);
    return;
  }
  let remaining = st.advertiseAddrNMsgs - 1;
  if (remaining <= 0) {
    closeSenders(senders);
    return;
  }
  const signal = stopSignal(st);
  // The next send's timer, cleared when the interface goes: a program that removes interfaces
  // without letting the event loop reach its timers (back-to-back netlink work) would otherwise
  // keep every removed sandbox (its socket, its Rtnl) alive until the loop is idle.
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    timer = setTimeout(tick, st.advertiseAddrIntervalMs);
    timer.unref();
  };
  const tick = (): void => {
    timer = undefined;
    if (signal.aborted) return closeSenders(senders);
    sendOnce().then(() => {
      remaining -= 1;
      if (remaining > 0 && !signal.aborted) schedule();
      else closeSenders(senders);
    }, (err: unknown) => {
      debug('stopped unsolicited ARP/NA for %s: %s', st.dstName, (err as Error).message);
      closeSenders(senders);
    });
  };
  signal.addEventListener('abort', () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    closeSenders(senders);
  }, { once: true });
  schedule();
}
