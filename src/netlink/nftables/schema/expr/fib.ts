/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The fib expression (NFTA_FIB_*): a route lookup from packet fields (FLAGS: saddr, daddr,
 * mark, iif, oif) whose result (the output interface, its name, or the address type) goes to a
 * register. `fib daddr type local` is FLAGS daddr, RESULT addrtype, then `cmp eq` RTN_LOCAL (a
 * host-order u32).
 */
import type { ValueCodec } from '../../../wire/attr-fields.js';
import { be32, named } from '../../../wire/attr-fields.js';
import { enumCodec } from '../../../wire/enum-codec.js';
import { NFT_FIB_RESULT, NFTA_FIB, NFTA_FIB_F } from '../constants.js';
import { fieldExpr } from './codec.js';

export type FibResult = 'oif' | 'oifname' | 'addrtype';
export const FIB_RESULTS = enumCodec<FibResult>({ oif: NFT_FIB_RESULT.OIF, oifname: NFT_FIB_RESULT.OIFNAME, addrtype: NFT_FIB_RESULT.ADDRTYPE });
export type FibFlag = Lowercase<keyof typeof NFTA_FIB_F>;

/** The flags as words (a bit no word names is left out when decoding). */
const fibFlags: ValueCodec<FibFlag[]> = {
  read: (v, what) => {
    const n = be32.read(v, what)!;
    return (Object.entries(NFTA_FIB_F) as [Uppercase<FibFlag>, number][]).filter(([, bit]) => (n & bit) !== 0).map(([k]) => k.toLowerCase() as FibFlag);
  },
  write: (w, t, v) => {
    let n = 0;
    for (const f of v) {
      const bit = (NFTA_FIB_F as Record<string, number>)[typeof f === 'string' ? f.toUpperCase() : ''];
      if (bit === undefined) throw new TypeError(`invalid fib flag ${JSON.stringify(f)}: ${Object.keys(NFTA_FIB_F).map((k) => k.toLowerCase()).join(', ')}`);
      n |= bit;
    }
    be32.write(w, t, n);
  },
};

export interface FibExpr {
  type: 'fib';
  /** NFTA_FIB_FLAGS */
  flags: FibFlag[];
  /** NFTA_FIB_RESULT */
  result: FibResult;
  /** NFTA_FIB_DREG */
  dreg: number;
}

export const fib = fieldExpr<FibExpr>('fib', {
  flags: [NFTA_FIB.FLAGS, 'NFTA_FIB_FLAGS', fibFlags],
  result: [NFTA_FIB.RESULT, 'NFTA_FIB_RESULT', named(FIB_RESULTS, be32, 'fib result')],
  dreg: [NFTA_FIB.DREG, 'NFTA_FIB_DREG', be32],
}, ['flags', 'result', 'dreg']);
