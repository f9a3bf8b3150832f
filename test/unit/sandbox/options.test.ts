/**
 * sandbox/options: resolveOptions (osl's IfaceOption constructors, validated before anything
 * touches the kernel) and parseSysctl (osl setSysctls' format checks, plus path tricks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADVERTISE_ADDR_INTERVAL_MAX_MS, ADVERTISE_ADDR_INTERVAL_MIN_MS, ADVERTISE_ADDR_NMSGS_MAX, ADVERTISE_ADDR_NMSGS_MIN,
  parseSysctl, resolveOptions,
} from '../../../src/sandbox/options.js';

void test('defaults: 3 messages, 1000 ms, nothing else set', () => {
  const o = resolveOptions('veth0', 'eth');
  assert.deepEqual(o, {
    dstName: undefined, isBridge: false, master: undefined, mac: undefined, ipv4: undefined, ipv6: undefined,
    linkLocal: [], routes: [], sysctls: [], createdInContainer: false, advertiseAddrNMsgs: 3, advertiseAddrIntervalMs: 1000,
  });
  assert.equal(ADVERTISE_ADDR_NMSGS_MIN, 0);
  assert.equal(ADVERTISE_ADDR_NMSGS_MAX, 3);
  assert.equal(ADVERTISE_ADDR_INTERVAL_MIN_MS, 100);
  assert.equal(ADVERTISE_ADDR_INTERVAL_MAX_MS, 2000);
});

void test('every option is parsed and normalised', () => {
  const o = resolveOptions('veth0', 'eth', {
    dstName: 'eth9', isBridge: true, master: 'br0', mac: 'AA:BB:CC:DD:EE:0F', ipv4: '10.0.0.2/24', ipv6: '2001:db8::2/64',
    linkLocal: ['169.254.1.1/16', 'fe80::5/64'], routes: ['0.0.0.0/0', '192.168.2.1/32'],
    sysctls: ['net.ipv4.conf.IFNAME.forwarding=1'], createdInContainer: true, advertiseAddrNMsgs: 0, advertiseAddrIntervalMs: 100,
  });
  assert.equal(o.dstName, 'eth9');
  assert.equal(o.mac, 'aa:bb:cc:dd:ee:0f');
  assert.deepEqual(o.ipv4, { address: '10.0.0.2', prefixLen: 24, family: 4 });
  assert.deepEqual(o.ipv6, { address: '2001:db8::2', prefixLen: 64, family: 6 });
  assert.deepEqual(o.linkLocal.map((c) => c.family), [4, 6]);
  assert.deepEqual(o.routes.map((c) => `${c.address}/${c.prefixLen}`), ['0.0.0.0/0', '192.168.2.1/32']);
  assert.deepEqual(o.sysctls, [{ text: 'net.ipv4.conf.IFNAME.forwarding=1', parts: ['net', 'ipv4', 'conf', 'IFNAME', 'forwarding'], value: '1' }]);
  assert.equal(o.isBridge && o.createdInContainer, true);
  assert.equal(resolveOptions('veth0', 'eth', { dstName: '' }).dstName, undefined, "'' means automatic naming");
});

void test('addresses are kept in canonical text (RFC 5952), as the kernel reports them', () => {
  const o = resolveOptions('veth0', 'eth', { ipv6: 'FDAC:97B4:DBCC:0:0::2/64', linkLocal: ['FE80:0::5/64'], routes: ['0:0::/0'] });
  assert.deepEqual(o.ipv6, { address: 'fdac:97b4:dbcc::2', prefixLen: 64, family: 6 });
  assert.equal(o.linkLocal[0]?.address, 'fe80::5');
  assert.equal(o.routes[0]?.address, '::');
});

void test('advertiseAddrNMsgs outside 0..3 fails with the upstream text', () => {
  assert.throws(() => resolveOptions('veth0', 'eth', { advertiseAddrNMsgs: 4 }), { name: 'RangeError', message: 'AdvertiseAddrNMsgs 4 is not in the range 0 to 3' });
  assert.throws(() => resolveOptions('veth0', 'eth', { advertiseAddrNMsgs: -1 }), { message: 'AdvertiseAddrNMsgs -1 is not in the range 0 to 3' });
  assert.throws(() => resolveOptions('veth0', 'eth', { advertiseAddrNMsgs: 1.5 }), RangeError);
  assert.throws(() => resolveOptions('veth0', 'eth', { advertiseAddrNMsgs: Number.NaN }), RangeError);
  for (const ok of [0, 1, 2, 3]) assert.equal(resolveOptions('veth0', 'eth', { advertiseAddrNMsgs: ok }).advertiseAddrNMsgs, ok);
});

void test('advertiseAddrIntervalMs outside 100..2000 ms fails', () => {
  assert.throws(() => resolveOptions('veth0', 'eth', { advertiseAddrIntervalMs: 99 }), {
    name: 'RangeError', message: 'AdvertiseAddrInterval 99ms is not in the range 100ms to 2000ms',
  });
  assert.throws(() => resolveOptions('veth0', 'eth', { advertiseAddrIntervalMs: 2001 }), RangeError);
  assert.throws(() => resolveOptions('veth0', 'eth', { advertiseAddrIntervalMs: Infinity }), RangeError);
  assert.equal(resolveOptions('veth0', 'eth', { advertiseAddrIntervalMs: 100 }).advertiseAddrIntervalMs, 100);
  assert.equal(resolveOptions('veth0', 'eth', { advertiseAddrIntervalMs: 2000 }).advertiseAddrIntervalMs, 2000);
});

void test('sysctl format errors keep the upstream texts', () => {
  assert.throws(() => parseSysctl('x'), { name: 'TypeError', message: "expected sysctl 'x' to have format name=value" });
  assert.throws(() => parseSysctl('net.ipv4.conf.forwarding=1'), {
    name: 'TypeError', message: "expected sysctl 'net.ipv4.conf.forwarding=1' to have format net.X.Y.IFNAME.Z",
  });
  assert.throws(() => parseSysctl('net.ipv4.conf.IFNAME.forwarding.x=1'), { message: /to have format net\.X\.Y\.IFNAME\.Z$/ });
  assert.throws(() => resolveOptions('veth0', 'eth', { sysctls: ['nonsense'] }), { message: "expected sysctl 'nonsense' to have format name=value" });
  assert.throws(() => resolveOptions('veth0', 'eth', { sysctls: 'net.ipv4.conf.IFNAME.forwarding=1' as unknown as string[] }), TypeError);
});

void test('sysctl keys that could escape /proc/sys/net are refused', () => {
  for (const bad of [
    'net.ipv4/../../kernel.conf.IFNAME.x=1', 'net.ipv4.conf.IFNAME.a/b=1', 'net..conf.IFNAME.x=1', 'net.ipv4.conf.IFNAME.=1',
    'net.ipv4.conf.IFNAME.x\0y=1', '/net.ipv4.conf.IFNAME.x=1',
  ]) {
    assert.throws(() => parseSysctl(bad), { name: 'TypeError', message: /to have format net\.X\.Y\.IFNAME\.Z$/ }, JSON.stringify(bad));
  }
});

void test('a sysctl value is everything after the first =', () => {
  assert.deepEqual(parseSysctl('net.ipv4.conf.IFNAME.x=a=b').value, 'a=b');
  assert.deepEqual(parseSysctl('net.ipv4.conf.IFNAME.x=').value, '');
});

void test('bad MACs, addresses and names are refused with what was wrong', () => {
  assert.throws(() => resolveOptions('veth0', 'eth', { mac: 'zz:bb:cc:dd:ee:ff' }), { name: 'TypeError', message: /invalid MAC address "zz:bb:cc:dd:ee:ff"/ });
  assert.throws(() => resolveOptions('veth0', 'eth', { mac: 'aa:bb:cc:dd:ee' }), /invalid MAC address/);
  assert.throws(() => resolveOptions('veth0', 'eth', { ipv4: '10.0.0.300/24' }), { name: 'TypeError', message: /invalid IPv4 address "10.0.0.300\/24"/ });
  assert.throws(() => resolveOptions('veth0', 'eth', { ipv4: '10.0.0.1/33' }), /prefix length must be 0 to 32/);
  assert.throws(() => resolveOptions('veth0', 'eth', { ipv4: '2001:db8::1/64' }), /not an IPv4 address/);
  assert.throws(() => resolveOptions('veth0', 'eth', { ipv6: '10.0.0.1/24' }), /not an IPv6 address/);
  assert.throws(() => resolveOptions('veth0', 'eth', { ipv6: '2001:db8::1/129' }), /prefix length must be 0 to 128/);
  assert.throws(() => resolveOptions('veth0', 'eth', { routes: ['10.0.0.0/x'] }), /invalid route/);
  assert.throws(() => resolveOptions('veth0', 'eth', { linkLocal: ['nope'] }), /invalid link-local address/);
  assert.throws(() => resolveOptions('veth0', 'eth', { routes: '0.0.0.0/0' as unknown as string[] }), TypeError);
  assert.throws(() => resolveOptions('', 'eth'), /invalid source interface name ""/);
  assert.throws(() => resolveOptions('a'.repeat(16), 'eth'), /invalid source interface name/);
  assert.throws(() => resolveOptions('a/b', 'eth'), /invalid source interface name/);
  assert.throws(() => resolveOptions('veth0', 'eth', { dstName: 'x y' }), /invalid destination interface name/);
  assert.throws(() => resolveOptions('veth0', 'eth', { master: '..' }), /invalid master name/);
  assert.throws(() => resolveOptions('veth0', ''), /invalid interface prefix ""/);
  assert.throws(() => resolveOptions('veth0', 'a'.repeat(15)), /invalid interface prefix/);
  assert.throws(() => resolveOptions('veth0', 'e/th'), /invalid interface prefix/);
  assert.equal(resolveOptions('veth0', '', { dstName: 'eth0' }).dstName, 'eth0', 'with a dstName the prefix is not needed');
});
