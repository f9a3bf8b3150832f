/**
 * netlink/nftables/schema goldens for tables, chains, sets, elements, the batch frame and the
 * generation, against what nft 1.0.6 sent and the kernel answered (test/fixtures/netlink/nft-*.hex,
 * captured by `scripts/capture-fixtures.sh nftables` under strace in a throwaway netns; each file's
 * first line says how). Our encoder's bytes equal nft's, and decoding gives back what we encoded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NLMSG } from '../../../../../src/netlink/wire/header.js';
import { decodeError } from '../../../../../src/netlink/wire/error.js';
import {
  NFNL_MSG, NFNL_SUBSYS, NFT_MSG, NFT_SET, NFT_SET_ELEM, UDATA_SET, buildElements, decodeBatchBegin, decodeChainMessage, decodeGenMessage,
  decodeSetElemListMessage, decodeSetMessage, decodeTableMessage, decodeUserdata, decodeValues, encodeBatchBegin, encodeBatchEnd,
  encodeChainMessage, encodeSetElemListMessage, encodeSetMessage, encodeTableMessage, ipv4, setMessage, type SetElement, type SetSpec,
} from '../../../../../src/netlink/nftables/schema/index.js';
import { pick, toHex } from '../../fixtures.js';
import { encodeLikeNft, nftMessages, onlyNft } from '../nft-fixtures.js';

const inet = { family: 'inet', table: 'nsbox' } as const;

void test('golden: the batch frame — BEGIN and END carry nfgenmsg { family 0, res_id be16 NFNL_SUBSYS_NFTABLES }', () => {
  const [begin] = pick('nft-table-comment', 'sent', NFNL_MSG.BATCH_BEGIN);
  const [end] = pick('nft-table-comment', 'sent', NFNL_MSG.BATCH_END);
  assert.ok(begin && end);
  assert.equal(toHex(begin.payload), '0000000a');
  assert.equal(encodeLikeNft(begin, (w) => encodeBatchBegin(w)), toHex(begin.bytes));
  assert.equal(encodeLikeNft(end, encodeBatchEnd), toHex(end.bytes));
  assert.deepEqual(decodeBatchBegin(begin.payload), { subsystem: NFNL_SUBSYS.NFTABLES });
  const w = encodeLikeNft(begin, (x) => encodeBatchBegin(x, 0x01020304));
  assert.equal(w.slice(40), '0800010001020304', 'NFNL_BATCH_GENID, be32');
});

void test('golden: table inet nsbox { comment "nsbox layout=1" } — NAME, FLAGS, USERDATA comment TLV', () => {
  const req = onlyNft('nft-table-comment', 'sent', NFT_MSG.NEWTABLE);
  const m = decodeTableMessage(req.payload);
  assert.deepEqual({ ...m, userdata: undefined }, { family: 'inet', name: 'nsbox', flags: 0, comment: 'nsbox layout=1', userdata: undefined });
  assert.equal(encodeLikeNft(req, (w) => encodeTableMessage(w, { family: 'inet', name: 'nsbox', flags: 0, comment: 'nsbox layout=1' })), toHex(req.bytes));
  // the kernel's dump of it: USE and HANDLE too
  const [reply] = nftMessages('nft-chain-base', 'received', NFT_MSG.NEWTABLE);
  assert.ok(reply);
  const dumped = decodeTableMessage(reply.payload);
  assert.equal(dumped.handle, 1n);
  assert.equal(dumped.use, 0);
  assert.equal(dumped.comment, 'nsbox layout=1');
});

void test('golden: base chain (type nat hook postrouting priority srcnat; policy accept) and a regular chain', () => {
  const base = onlyNft('nft-chain-base', 'sent', NFT_MSG.NEWCHAIN);
  const chain = { ...inet, name: 'postrouting', type: 'nat', policy: 'accept', hook: { hook: 'postrouting', priority: 100 } } as const;
  assert.deepEqual(decodeChainMessage(base.payload), chain);
  assert.equal(encodeLikeNft(base, (w) => encodeChainMessage(w, chain)), toHex(base.bytes));
  const regular = onlyNft('nft-chain-regular', 'sent', NFT_MSG.NEWCHAIN);
  assert.deepEqual(decodeChainMessage(regular.payload), { ...inet, name: 'published' });
  assert.equal(encodeLikeNft(regular, (w) => encodeChainMessage(w, { ...inet, name: 'published' })), toHex(regular.bytes));
});

void test('golden: a negative priority is two\'s complement be32 (dstnat −100 is ffffff9c)', () => {
  const pre = nftMessages('nft-ruleset', 'sent', NFT_MSG.NEWCHAIN)[0]!;
  assert.deepEqual(decodeChainMessage(pre.payload).hook, { hook: 'prerouting', priority: -100 });
  assert.match(toHex(pre.bytes), /08000200ffffff9c/);
});

const dnat4: SetSpec = {
  ...inet, name: 'dnat4', key: ['inet_proto', 'ipv4_addr', 'inet_service'], data: ['ipv4_addr', 'inet_service'],
  comment: 'proto . host ip . host port -> sandbox ip . port',
};
const ownNet4: SetSpec = { ...inet, name: 'own_net4', key: ['ifname', 'ipv4_addr'], interval: true, comment: 'bridge . its subnet' };
const natNets4: SetSpec = { ...inet, name: 'nat_nets4', key: 'ipv4_addr', interval: true };

void test('golden: a concatenated map — KEY_TYPE 0xc1cd (ids shifted by 6 bits), KEY_LEN 12, DATA 0x1cd/8, nft\'s userdata hints', () => {
  const req = onlyNft('nft-map-concat', 'sent', NFT_MSG.NEWSET);
  const m = setMessage(dnat4, 1);
  assert.equal(encodeLikeNft(req, (w) => encodeSetMessage(w, m)), toHex(req.bytes));
  const d = decodeSetMessage(req.payload);
  assert.deepEqual({ ...d, userdata: undefined }, {
    ...inet, name: 'dnat4', flags: NFT_SET.MAP, keyType: 0xc1cd, keyLen: 12, dataType: 0x1cd, dataLen: 8, id: 1, comment: dnat4.comment, userdata: undefined,
  });
  assert.deepEqual(decodeUserdata(d.userdata!).map((i) => i.type), [UDATA_SET.KEYBYTEORDER, UDATA_SET.DATABYTEORDER, UDATA_SET.KEY_TYPEOF, UDATA_SET.DATA_TYPEOF, UDATA_SET.DATA_INTERVAL, UDATA_SET.COMMENT]);
});

void test('golden: a pipapo set (ifname . ipv4_addr, interval) — FLAGS INTERVAL|CONCAT, DESC.CONCAT field lengths 16 and 4 in bytes', () => {
  const req = onlyNft('nft-set-pipapo', 'sent', NFT_MSG.NEWSET);
  assert.equal(encodeLikeNft(req, (w) => encodeSetMessage(w, setMessage(ownNet4, 1))), toHex(req.bytes));
  const d = decodeSetMessage(req.payload);
  assert.equal(d.flags, NFT_SET.INTERVAL | NFT_SET.CONCAT);
  assert.deepEqual(d.desc, { concat: [16, 4] });
  assert.equal(d.keyType, 0xa47);
  assert.equal(d.keyLen, 20);
});

void test('golden: a plain interval set (ipv4_addr) — FLAGS INTERVAL, key byte order big-endian', () => {
  const req = onlyNft('nft-set-interval', 'sent', NFT_MSG.NEWSET);
  assert.equal(encodeLikeNft(req, (w) => encodeSetMessage(w, setMessage(natNets4, 1))), toHex(req.bytes));
  assert.equal(toHex(decodeSetMessage(req.payload).userdata!), '000402000000');
});

/** The elements of a sent NEWSETELEM of `fixture`, re-encoded by us with its own list attributes. */
function elementsGolden(fixture: string, elements: SetElement[], set: string): void {
  const req = onlyNft(fixture, 'sent', NFT_MSG.NEWSETELEM);
  const m = decodeSetElemListMessage(req.payload);
  assert.deepEqual(m.elements, elements.map((e) => (e.comment === undefined ? e : { ...e, userdata: m.elements?.find((x) => x.comment === e.comment)?.userdata })));
  // nft names the set by its id in nft's own cache too (1, 2, 3 in the order it read them)
  assert.equal(encodeLikeNft(req, (w) => { encodeSetElemListMessage(w, { ...inet, set, setId: m.setId!, elements }); }), toHex(req.bytes));
}

void test('golden: map elements with a comment — key and data are concatenations padded to 4 bytes per field', () => {
  const { elements } = buildElements(dnat4, [
    { key: ['tcp', '192.0.2.1', 8081], data: ['10.88.0.3', 80], comment: 'sandbox=web port=8081/tcp' },
    { key: ['udp', '192.0.2.1', 8053], data: ['10.88.0.3', 53] },
  ]);
  assert.equal(toHex(elements[0]!.key!), '06000000c00002011f910000');
  assert.equal(toHex(elements[0]!.data!), '0a58000300500000');
  elementsGolden('nft-elements-map', elements, 'dnat4');
  assert.deepEqual(decodeValues(dnat4.key, elements[0]!.key!), ['tcp', '192.0.2.1', 8081]);
  assert.deepEqual(decodeValues(dnat4.data as string[] as ['ipv4_addr', 'inet_service'], elements[1]!.data!), ['10.88.0.3', 53]);
});

void test('golden: pipapo elements — one element per prefix, KEY the starts, KEY_END the inclusive ends', () => {
  const { elements, origin } = buildElements(ownNet4, [{ key: ['nsbox0', '10.88.0.0/16'], comment: 'network=nsbox0' }, { key: ['nsbox1', '10.89.0.0/16'] }]);
  assert.deepEqual(origin, [0, 1]);
  assert.equal(toHex(elements[0]!.keyEnd!).slice(-8), '0a58ffff');
  elementsGolden('nft-elements-pipapo', elements, 'own_net4');
});

void test('golden: rbtree interval elements — a start, and INTERVAL_END at the first address after; nft adds a leading 0.0.0.0 end, which the kernel does not need', () => {
  const { elements, origin } = buildElements(natNets4, [{ key: '10.88.0.0/16' }, { key: '10.89.0.0/16' }]);
  assert.deepEqual(origin, [0, 0, 1, 1]);
  assert.deepEqual(elements.map((e) => [e.flags ?? 0, toHex(e.key!)]), [[0, '0a580000'], [NFT_SET_ELEM.INTERVAL_END, '0a590000'], [0, '0a590000'], [NFT_SET_ELEM.INTERVAL_END, '0a5a0000']]);
  elementsGolden('nft-elements-interval', [{ flags: NFT_SET_ELEM.INTERVAL_END, key: ipv4('0.0.0.0') }, ...elements], 'nat_nets4');
  // a prefix that ends the address space has no end element
  assert.deepEqual(buildElements(natNets4, [{ key: '255.255.255.0/24' }]).elements.map((e) => e.flags ?? 0), [0]);
});

void test('golden: a duplicate key with other data — EEXIST, and the extack offset points inside the element', () => {
  const req = onlyNft('nft-elements-dup', 'sent', NFT_MSG.NEWSETELEM);
  const [err] = pick('nft-elements-dup', 'received', NLMSG.ERROR);
  assert.ok(err);
  const e = decodeError(err.payload, err.flags);
  assert.equal(e.error, -17);
  const offset = e.extack?.offset;
  assert.ok(offset !== undefined, 'an extack offset');
  const m = decodeSetElemListMessage(req.payload);
  const { elements } = buildElements(dnat4, [{ key: ['tcp', '192.0.2.1', 8081], data: ['10.88.0.4', 80] }]);
  assert.deepEqual(m.elements, elements);
  let spans: { start: number; end: number }[] = [];
  const ours = encodeLikeNft(req, (w) => { spans = encodeSetElemListMessage(w, { ...inet, set: 'dnat4', setId: 1, elements }); });
  assert.equal(ours, toHex(req.bytes));
  assert.ok(offset >= spans[0]!.start && offset < spans[0]!.end, `offset ${offset} inside element 0 at [${spans[0]!.start}, ${spans[0]!.end})`);
});

void test('golden: the generation — NEWGEN answers GETGEN with the id and the asking process', () => {
  const [gen] = nftMessages('nft-list-ruleset', 'received', NFT_MSG.NEWGEN);
  assert.ok(gen);
  const g = decodeGenMessage(gen.payload);
  assert.equal(g.procName, 'nft');
  assert.ok(g.id > 0 && g.pid !== undefined && g.pid > 0);
});

void test('set element and message round trips, verdicts included', () => {
  const verdictMap: SetSpec = { ...inet, name: 'vmap', key: 'ifname', data: 'verdict' };
  const m = setMessage(verdictMap, 3);
  assert.equal(m.dataType, 0xffffff00);
  const { elements } = buildElements(verdictMap, [{ key: 'nsbox0', verdict: { code: 'jump', chain: 'into_net' } }, { key: 'nsbox1', verdict: { code: 'drop' } }]);
  const w = encodeLikeNft({ type: 0, flags: 0, seq: 0, pid: 0, payload: new Uint8Array(), dir: 'sent', bytes: new Uint8Array() }, (x) => {
    encodeSetElemListMessage(x, { ...inet, set: 'vmap', elements });
  });
  const back = decodeSetElemListMessage(Buffer.from(w, 'hex').subarray(16));
  assert.deepEqual(back, { ...inet, set: 'vmap', elements });
  const sw = encodeLikeNft({ type: 0, flags: 0, seq: 0, pid: 0, payload: new Uint8Array(), dir: 'sent', bytes: new Uint8Array() }, (x) => encodeSetMessage(x, m));
  assert.deepEqual(decodeSetMessage(Buffer.from(sw, 'hex').subarray(16)), m);
});

void test('bad element values are refused before anything is sent', () => {
  assert.throws(() => buildElements(dnat4, [{ key: ['tcp', 8080], data: ['10.88.0.3', 80] }]), /3 key value\(s\) expected/);
  assert.throws(() => buildElements(dnat4, [{ key: ['tcp', '192.0.2.1', 8081] }]), /needs data/);
  assert.throws(() => buildElements(dnat4, [{ key: ['tcp', 'fd00::1', 8081], data: ['10.88.0.3', 80] }]), /invalid IPv4 address/);
  assert.throws(() => buildElements(dnat4, [{ key: ['tcp', '192.0.2.1', 70000], data: ['10.88.0.3', 80] }]), /invalid port 70000/);
  assert.throws(() => buildElements(natNets4, [{ key: 'fd88::/64' }]), /not an ipv4_addr prefix/);
  assert.throws(() => buildElements({ ...inet, name: 'b', key: 'ifname' }, [{ key: 'a-name-longer-than-15' }]), /1 to 15 bytes/);
  assert.throws(() => buildElements({ ...inet, name: 'p', key: 'ipv4_addr' }, [{ key: '10.0.0.0/8' }]), /needs an interval set/);
});
