/**
 * netlink/wire/nfgen: struct nfgenmsg (family, version, res_id big-endian) and the nfnetlink
 * message type (subsystem << 8 | operation), as conntrack-tools and nft write them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../../../src/errors.js';
import { AttrWriter } from '../../../../src/netlink/wire/attr.js';
import {
  NFGENMSG_LEN, NFNL_MSG, NFNL_SUBSYS, NFPROTO, decodeNfgenmsg, encodeNfgenmsg, nfnlOp, nfnlSubsys, nfnlType,
} from '../../../../src/netlink/wire/nfgen.js';
import { toHex } from '../fixtures.js';

void test('nfgenmsg: family and version bytes, then res_id in network byte order', () => {
  const w = new AttrWriter();
  encodeNfgenmsg(w, { family: NFPROTO.UNSPEC, resId: NFNL_SUBSYS.NFTABLES });
  assert.equal(toHex(w.finish()), '0000000a', "a BATCH_BEGIN's nfgenmsg, as nft sends it");
  const v6 = new AttrWriter();
  encodeNfgenmsg(v6, { family: NFPROTO.IPV6, version: 1 });
  assert.equal(toHex(v6.finish()), '0a010000');
  assert.equal(NFGENMSG_LEN, 4);
});

void test('nfgenmsg round-trips; a body shorter than 4 bytes is a DecodeError', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff }), (family, version, resId) => {
    const w = new AttrWriter();
    encodeNfgenmsg(w, { family, version, resId });
    assert.deepEqual(decodeNfgenmsg(w.finish()), { family, version, resId });
  }));
  assert.throws(() => decodeNfgenmsg(Uint8Array.of(2, 0, 0)), DecodeError);
});

void test('message types: subsystem in the high byte, operation in the low one', () => {
  assert.equal(nfnlType(NFNL_SUBSYS.CTNETLINK, 2), 0x0102, 'IPCTNL_MSG_CT_DELETE');
  assert.equal(nfnlType(NFNL_SUBSYS.NFTABLES, 6), 0x0a06, 'NFT_MSG_NEWRULE');
  assert.equal(nfnlSubsys(0x0a06), NFNL_SUBSYS.NFTABLES);
  assert.equal(nfnlOp(0x0a06), 6);
  assert.equal(nfnlSubsys(NFNL_MSG.BATCH_BEGIN), NFNL_SUBSYS.NONE, 'batch markers belong to no subsystem');
});
