/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The counter expression (NFTA_COUNTER_*, be64): packets and bytes that reached it. nft sends it
 * empty (the kernel starts at zero); dumps carry both counts.
 */
import { be64 } from '../../../wire/attr-fields.js';
import { NFTA_COUNTER } from '../constants.js';
import { fieldExpr } from './codec.js';

export interface CounterExpr {
  type: 'counter';
  /** NFTA_COUNTER_BYTES */
  bytes?: bigint;
  /** NFTA_COUNTER_PACKETS */
  packets?: bigint;
}

export const counter = fieldExpr<CounterExpr>('counter', {
  bytes: [NFTA_COUNTER.BYTES, 'NFTA_COUNTER_BYTES', be64],
  packets: [NFTA_COUNTER.PACKETS, 'NFTA_COUNTER_PACKETS', be64],
});
