/**
 * Layer: netlink/route/ops — rtnetlink operations.
 *
 * Namespace ids (RTM_*NSID): the number this namespace uses to name a peer namespace.
 */
import type { NetlinkSocket, RequestOptions } from '../../socket.js';
import { RTM, NETNSA_NSID_NOT_ASSIGNED } from '../schema/constants.js';
import { decodeNsidMessage, encodeNsidMessage } from '../schema/nsid.js';
import { DecodeError, NetlinkError } from '../../../errors.js';

export class NsidOps {
  readonly #socket: NetlinkSocket;

  constructor(socket: NetlinkSocket) {
    this.#socket = socket;
  }

  /** `ip netns list-id` for one namespace: its id here, or undefined if none is assigned. */
  async get(netnsFd: number, req?: RequestOptions): Promise<number | undefined> {
    const [reply] = await this.#socket.request(RTM.GETNSID, 0, (w) => encodeNsidMessage(w, { fd: netnsFd }), (m) => decodeNsidMessage(m.payload), req);
    const nsid = reply?.nsid;
    return nsid === undefined || nsid === NETNSA_NSID_NOT_ASSIGNED ? undefined : nsid;
  }

  /**
   * `ip netns set NAME ID` (`auto` when id is omitted): assign an id and return the id in
   * force. With `auto`, a namespace that already has an id keeps it (no error); an explicit id
   * on a namespace that has another fails with EEXIST.
   */
  async set(netnsFd: number, nsid?: number, req?: RequestOptions): Promise<number> {
    if (nsid !== undefined && (!Number.isInteger(nsid) || nsid < 0 || nsid > 0x7fffffff)) throw new TypeError(`invalid nsid ${nsid}`);
    try {
      await this.#socket.request(RTM.NEWNSID, 0, (w) => encodeNsidMessage(w, { fd: netnsFd, nsid: nsid ?? NETNSA_NSID_NOT_ASSIGNED }), undefined, req);
    } catch (err) {
      if (!(nsid === undefined && err instanceof NetlinkError && err.code === 'EEXIST')) throw err;
    }
    const assigned = await this.get(netnsFd, req);
    if (assigned === undefined) throw new DecodeError('RTM_NEWNSID reply', 0, 'the kernel reports no nsid for the namespace it was asked to number');
    return assigned;
  }
}
