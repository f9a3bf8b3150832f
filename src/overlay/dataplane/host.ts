/**
 * Layer: overlay/dataplane — the handles of the host namespace.
 *
 * rtnetlink and nf_tables in the namespace the data plane works in (OverlayHost): a handle the
 * caller lends is used and left open; one opened here is closed when the call ends. Per-device
 * sysctls are written in the same namespace.
 */
import { writeFileSync } from 'node:fs';
import { NsboxError } from '../../errors.js';
import { Rtnl } from '../../netlink/route/ops/index.js';
import type { Nft } from '../../netlink/nftables/ops/index.js';
import { writeFileIn } from '../../sys/index.js';
import { openNft } from './allowlist.js';
import type { OverlayHost } from './types.js';

export interface HostHandles {
  rtnl: Rtnl;
  /** nf_tables in the same namespace, opened on first use. */
  nft(): Nft;
  /** Write /proc/sys/net/PATH in the host namespace. */
  sysctl(path: string, value: string): void;
}

export async function withHost<T>(host: OverlayHost | undefined, fn: (h: HostHandles) => Promise<T>): Promise<T> {
  const own = host?.rtnl === undefined;
  const rtnl = host?.rtnl ?? Rtnl.open(host?.netns === undefined ? {} : { netns: host.netns });
  let nft: Nft | undefined;
  const fd = rtnl.netnsFd;
  try {
    return await fn({
      rtnl,
      nft: () => (nft ??= openNft(fd >= 0 ? { netns: fd } : {})),
      sysctl: (path, value) => {
        try {
          if (fd >= 0) writeFileIn(fd, `/proc/sys/net/${path}`, value);
          else writeFileSync(`/proc/sys/net/${path}`, value);
        } catch (err) {
          throw new NsboxError(`cannot set net/${path} to ${value}: ${(err as Error).message}`, 'NSBOX_ERR_SYSCTL', { cause: err });
        }
      },
    });
  } finally {
    nft?.close();
    if (own) rtnl.close();
  }
}
