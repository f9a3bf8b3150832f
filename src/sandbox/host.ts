/**
 * Layer: sandbox.
 *
 * The host side: the namespace this process started in (where links come from and go back
 * to) and one rtnetlink handle in it, opened on first use and shared by every sandbox.
 */
import { openNetns } from '../sys/index.js';
import { Rtnl } from '../netlink/route/ops/index.js';

let hostFd: number | undefined;
let hostRtnl: Rtnl | undefined;

/** An fd of the host namespace, taken from the process (never from a switched thread). */
export function hostNetnsFd(): number {
  hostFd ??= openNetns('/proc/self/ns/net');
  return hostFd;
}

/** The shared rtnetlink handle in the host namespace. */
export function hostNetlink(): Rtnl {
  if (hostRtnl === undefined || hostRtnl.closed) hostRtnl = Rtnl.open({ netns: hostNetnsFd() });
  return hostRtnl;
}
