/**
 * Layer: netlink/conntrack/ops — ctnetlink operations.
 *
 * A ctnetlink handle bound to one network namespace's connection tracking table: list entries
 * (`conntrack -L`), delete one (`conntrack -D` of a tuple), delete every entry a filter selects
 * (`conntrack -D -p udp --orig-port-dst N`: one dump, then batches of deletes), and flush by
 * protocol and port in one request where the kernel can. The socket is made inside the
 * namespace once and reused; no call switches the thread's namespace. What the kernel can
 * filter is asked once per handle (probe.ts) and remembered.
 */
import type { RequestOptions } from '../../socket.js';
import { closeNetnsSocket, openNetnsSocket, type NetnsSocket, type NetnsSocketOptions } from '../../netns-socket.js';
import { CTNETLINK } from '../family.js';
import type { ConntrackEntry, ConntrackKey } from './entry.js';
import { checkFilter, type ConntrackFilter, type ConntrackFlushFilter } from './filter.js';
import { listEntries } from './list.js';
import { deleteEntries, deleteEntry, flushFiltered, type ConntrackDeleteReport } from './delete.js';
import { probeCapabilities, type ConntrackCapabilities } from './probe.js';

/** Options of Conntrack.open: the namespace and the socket's own options. */
export type ConntrackOptions = Omit<NetnsSocketOptions, 'groups'>;

/** What flush did: one filtered flush per family, or (a kernel that cannot) deleteWhere's dump and deletes. */
export type ConntrackFlushReport = { method: 'filtered-flush' } | ({ method: 'dump-delete' } & ConntrackDeleteReport);

export class Conntrack {
  readonly #handle: NetnsSocket;
  #capabilities: Promise<ConntrackCapabilities> | undefined;

  private constructor(handle: NetnsSocket) {
    this.#handle = handle;
  }

  /** Open a handle (synchronous: one NETLINK_NETFILTER socket made inside the namespace). */
  static open(options: ConntrackOptions = {}): Conntrack {
    return new Conntrack(openNetnsSocket(CTNETLINK, options));
  }

  /** The namespace fd this handle works in (-1: the caller's namespace). */
  get netnsFd(): number {
    return this.#handle.netnsFd;
  }

  get closed(): boolean {
    return this.#handle.socket.closed;
  }

  /**
   * What this kernel's ctnetlink can filter, asked once per handle (a refused request or two,
   * nothing changed). A probe that fails (EPERM without CAP_NET_ADMIN) is asked again next time.
   */
  probe(req?: RequestOptions): Promise<ConntrackCapabilities> {
    this.#capabilities ??= probeCapabilities(this.#handle.socket, req).catch((err: unknown) => {
      this.#capabilities = undefined;
      throw err;
    });
    return this.#capabilities;
  }

  /**
   * The entries `filter` selects (all without one). The kernel narrows the dump by family and,
   * where it filters dumps, by protocol and original destination port; the filter is applied to
   * every entry either way, so the answer does not depend on the kernel.
   */
  async list(filter: ConntrackFilter = {}, req?: RequestOptions): Promise<ConntrackEntry[]> {
    const f = checkFilter(filter);
    const kernelFilter = f.protoNum !== undefined && (await this.probe(req)).filteredDump;
    return listEntries(this.#handle.socket, f, kernelFilter, req);
  }

  /**
   * Delete one entry, named by its original tuple (a listed entry, or `{ proto, orig }`); an
   * entry's `id` makes sure it is that very entry, not a newer one with the same tuple. Resolves
   * to true when this call deleted it, false when it was gone already (ENOENT is no error).
   */
  delete(key: ConntrackKey, req?: RequestOptions): Promise<boolean> {
    return deleteEntry(this.#handle.socket, key, req);
  }

  /**
   * Delete every entry `filter` selects: one dump (as list), then CT_DELETE by original tuple and
   * id, DELETE_BATCH_SIZE to a datagram. Entries gone meanwhile count as `alreadyGone`; entries
   * created after the dump are not touched. An empty filter deletes every entry.
   */
  async deleteWhere(filter: ConntrackFilter, req?: RequestOptions): Promise<ConntrackDeleteReport> {
    const entries = await this.list(filter, req);
    return deleteEntries(this.#handle.socket, entries, req);
  }

  /**
   * Delete every entry of a protocol (and original destination port): where the kernel's flush
   * takes CTA_FILTER (probe), one request per family, which deletes in one pass also what
   * appears meanwhile and counts nothing; elsewhere deleteWhere. For large tables: the kernel
   * walks its table once instead of answering one delete per entry.
   */
  async flush(filter: ConntrackFlushFilter, req?: RequestOptions): Promise<ConntrackFlushReport> {
    if (filter === null || typeof filter !== 'object' || filter.proto === undefined) throw new TypeError('flush needs { proto, family?, origDstPort? }');
    if ('addresses' in filter) throw new TypeError('flush takes no addresses (the kernel cannot select "any of these addresses"): use deleteWhere');
    const f = checkFilter(filter);
    if (!(await this.probe(req)).filteredFlush) return { method: 'dump-delete', ...(await this.deleteWhere(filter, req)) };
    await flushFiltered(this.#handle.socket, f.families, f.protoNum!, f.origDstPort, req);
    return { method: 'filtered-flush' };
  }

  /** Close the socket (and the netns fd if the handle opened it). Idempotent. */
  close(): void {
    closeNetnsSocket(this.#handle);
  }
}

export type { ConntrackEntry, ConntrackKey, ConntrackTuple, ConntrackProtocol, ConntrackProtocolName, ConntrackStatus, ConntrackTcpState } from './entry.js';
export type { ConntrackFilter, ConntrackFlushFilter } from './filter.js';
export type { ConntrackDeleteReport } from './delete.js';
export type { ConntrackCapabilities } from './probe.js';
