/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The immediate expression (NFTA_IMMEDIATE_*): load a constant into a register, or a verdict
 * into the verdict register (0): accept, drop, return, jump/goto a chain.
 */
import { DecodeError } from '../../../../errors.js';
import { be32 } from '../../../wire/attr-fields.js';
import { NFT_REG, NFTA_IMMEDIATE } from '../constants.js';
import { readData, writeValue, writeVerdict, type Verdict } from '../data.js';
import type { ExprCodec } from './codec.js';

export interface ImmediateExpr {
  type: 'immediate';
  /** NFTA_IMMEDIATE_DREG: NFT_REG_VERDICT (0) for a verdict */
  dreg: number;
  /** NFTA_IMMEDIATE_DATA as a value */
  data?: Uint8Array;
  /** NFTA_IMMEDIATE_DATA as a verdict */
  verdict?: Verdict;
}

export const immediate: ExprCodec<ImmediateExpr> = {
  name: 'immediate',
  encode(w, e) {
    be32.write(w, NFTA_IMMEDIATE.DREG, e.dreg);
    if (e.verdict !== undefined) {
      if (e.dreg !== NFT_REG.VERDICT) throw new RangeError(`a verdict goes to the verdict register (0), not ${e.dreg}`);
      writeVerdict(w, NFTA_IMMEDIATE.DATA, e.verdict);
    } else if (e.data !== undefined) {
      writeValue(w, NFTA_IMMEDIATE.DATA, e.data);
    } else {
      throw new TypeError('an immediate needs data or a verdict');
    }
  },
  decode(a) {
    const dreg = a.get(NFTA_IMMEDIATE.DREG);
    const data = a.get(NFTA_IMMEDIATE.DATA);
    if (dreg === undefined || data === undefined) throw new DecodeError('immediate', 0, 'needs NFTA_IMMEDIATE_DREG and _DATA');
    const e: ImmediateExpr = { type: 'immediate', dreg: be32.read(dreg, 'NFTA_IMMEDIATE_DREG')! };
    const d = readData(data, 'NFTA_IMMEDIATE_DATA');
    if ('verdict' in d) e.verdict = d.verdict;
    else e.data = d.value;
    return e;
  },
};
