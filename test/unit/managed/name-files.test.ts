/**
 * Unit: the text of a sandbox's names files (src/managed/name-files.ts). resolv.conf: the
 * host's servers a sandbox can reach, systemd-resolved's upstream servers (with their
 * search/options lines) in place of its loopback stub, --dns servers instead of both, no server
 * at all said with the reason; trust-ad dropped with --dns unless the resolver is the sandbox's own.
 * hosts: localhost lines, the sandbox's own addresses, its peers network by network, the host's
 * /etc/hosts after them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reachableFromSandbox, renderHosts, renderResolvConf } from '../../../src/managed/name-files.js';

/** The lines of a file that are not comments. */
const body = (text: string): string[] => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

const STUB = '# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\n'
  + 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch corp.example lab.example\n';
const UPSTREAM = '# This is /run/systemd/resolve/resolv.conf managed by man:systemd-resolved(8).\n'
  + 'nameserver 192.0.2.53\nnameserver 2001:db8::53\nnameserver fe80::1%2\nsearch corp.example lab.example\n';

test('which servers a sandbox can reach', () => {
  for (const s of ['192.0.2.53', '10.0.0.1', '8.8.8.8', '2001:db8::53', 'fd00::1', '::ffff:192.0.2.1']) assert.equal(reachableFromSandbox(s), true, s);
  for (const s of ['127.0.0.53', '127.0.0.1', '127.1.2.3', '0.0.0.0', '::1', '::', '::ffff:127.0.0.1', '::ffff:7f00:1', 'fe80::1', 'FE80::1', 'febf::1', 'fe80::1%eth0', '192.0.2.1%eth0', 'resolver.example', '']) {
    assert.equal(reachableFromSandbox(s), false, s);
  }
});

test('a host with reachable servers: they are kept with the search and options lines, comments and unknown lines dropped', () => {
  const r = renderResolvConf('web', { host: '# from DHCP\nnameserver 192.0.2.53\n; old style comment\nnameserver  198.51.100.53 \ndomain corp.example\noptions ndots:2 timeout:1\nsortlist 130.155.160.0/255.255.240.0\nlookup file bind\n', resolved: UPSTREAM });
  assert.deepEqual(r.nameservers, ['192.0.2.53', '198.51.100.53']);
  assert.equal(r.source, 'host', 'the upstream list is only used instead of a loopback server');
  assert.equal(r.problem, undefined);
  assert.deepEqual(body(r.text), ['nameserver 192.0.2.53', 'nameserver 198.51.100.53', 'domain corp.example', 'options ndots:2 timeout:1', 'sortlist 130.155.160.0/255.255.240.0']);
  assert.match(r.text, /^# nsbox: resolv\.conf of sandbox web, bound over \/etc\/resolv\.conf .*ip netns exec web\)\.\n# Written from the host's \/etc\/resolv\.conf; /);
});

test('systemd-resolved\'s stub: its upstream servers a sandbox can reach, with their search line; the stub\'s trust-ad is not kept', () => {
  const r = renderResolvConf('web', { host: STUB, resolved: UPSTREAM });
  assert.deepEqual(r.nameservers, ['192.0.2.53', '2001:db8::53'], 'the link-local server (the host\'s link) is left out');
  assert.equal(r.source, 'systemd-resolved');
  assert.deepEqual(body(r.text), ['nameserver 192.0.2.53', 'nameserver 2001:db8::53', 'search corp.example lab.example']);
  assert.match(r.text, /its 127\.0\.0\.53 \(the host's own resolver\) replaced by systemd-resolved's upstream servers \(\/run\/systemd\/resolve\/resolv\.conf\)/);
});

test('a host with a loopback server and a reachable one keeps the reachable one, then the upstream servers, each once', () => {
  const r = renderResolvConf('x', { host: 'nameserver 127.0.0.1\nnameserver 192.0.2.53\n', resolved: 'nameserver 192.0.2.53\nnameserver 192.0.2.54\n' });
  assert.deepEqual(r.nameservers, ['192.0.2.53', '192.0.2.54']);
});

test('--dns servers replace the host\'s and keep its search/options lines (without trust-ad, unless the server is the sandbox\'s own loopback)', () => {
  const r = renderResolvConf('web', { host: STUB, resolved: undefined, dns: ['192.0.2.99', '2001:db8::99', '192.0.2.99'] });
  assert.equal(r.source, 'dns');
  assert.deepEqual(body(r.text), ['nameserver 192.0.2.99', 'nameserver 2001:db8::99', 'options edns0', 'search corp.example lab.example']);
  assert.match(r.text, /# Written servers from --dns, search and options lines from the host;/);
  const own = renderResolvConf('web', { host: STUB, resolved: undefined, dns: ['127.0.0.1'] });
  assert.deepEqual(body(own.text), ['nameserver 127.0.0.1', 'options edns0 trust-ad', 'search corp.example lab.example'], 'a resolver inside the sandbox: as the user said');
  const onlyTrustAd = renderResolvConf('web', { host: 'nameserver 192.0.2.53\noptions trust-ad\n', resolved: undefined, dns: ['192.0.2.99'] });
  assert.deepEqual(body(onlyTrustAd.text), ['nameserver 192.0.2.99'], 'an options line with nothing left goes');
  const hostsOwn = renderResolvConf('web', { host: 'nameserver 192.0.2.53\noptions trust-ad\n', resolved: undefined });
  assert.deepEqual(body(hostsOwn.text), ['nameserver 192.0.2.53', 'options trust-ad'], 'the host\'s own servers come with the host\'s own options');
  const withUpstream = renderResolvConf('web', { host: STUB, resolved: UPSTREAM, dns: ['192.0.2.99'] });
  assert.deepEqual(body(withUpstream.text), ['nameserver 192.0.2.99', 'search corp.example lab.example'], 'the search line of the file whose servers would have been used');
});

test('no server a sandbox can reach: none is written, and the reason says what the host has', () => {
  const cases: [Parameters<typeof renderResolvConf>[1], string][] = [
    [{ host: STUB, resolved: undefined }, 'the host\'s /etc/resolv.conf names only 127.0.0.53, which a sandbox cannot reach (the host\'s own resolver), and there is no /run/systemd/resolve/resolv.conf to take the upstream servers from'],
    [{ host: STUB, resolved: 'nameserver 127.0.0.1\nnameserver fe80::1%3\n' }, 'the host\'s /etc/resolv.conf names only 127.0.0.53, which a sandbox cannot reach (the host\'s own resolver), and /run/systemd/resolve/resolv.conf names no server a sandbox can reach either'],
    [{ host: 'nameserver 127.0.0.1\nnameserver ::1\n', resolved: undefined }, 'the host\'s /etc/resolv.conf names only 127.0.0.1, ::1, which a sandbox cannot reach (the host\'s own resolver), and there is no /run/systemd/resolve/resolv.conf to take the upstream servers from'],
    [{ host: 'search corp.example\n', resolved: UPSTREAM }, 'the host\'s /etc/resolv.conf names no server'],
    [{ host: undefined, resolved: undefined }, 'the host has no /etc/resolv.conf'],
    [{ host: STUB, resolved: undefined, dns: [] }, 'the host\'s /etc/resolv.conf names only 127.0.0.53, which a sandbox cannot reach (the host\'s own resolver), and there is no /run/systemd/resolve/resolv.conf to take the upstream servers from'],
  ];
  for (const [sources, problem] of cases) {
    const r = renderResolvConf('web', sources);
    assert.deepEqual([r.nameservers, r.problem], [[], problem], JSON.stringify(sources));
    assert.ok(!r.text.includes('nameserver'), 'glibc then tries its own loopback, which fails at once');
    assert.ok(r.text.includes(`# No DNS server: ${problem}. Give one with --dns IP (nsbox create, nsbox run).\n`), 'the file says it too');
  }
});

test('hosts: localhost lines, the sandbox\'s own addresses (name.NETWORK on networks), its peers network by network, then the host\'s file', () => {
  const text = renderHosts({
    name: 'web',
    own: [{ address: '10.88.0.2', network: 'nsbox0' }, { address: 'fd88::2', network: 'nsbox0' }, { address: '10.77.0.9', network: 'lab' }, { address: '10.5.0.2' }],
    peers: [
      { name: 'db', address: '10.88.0.3', network: 'nsbox0' },
      { name: 'db', address: 'fd88::3', network: 'nsbox0' },
      { name: 'cache', address: '10.88.0.4', network: 'nsbox0' },
      { name: 'db', address: '10.77.0.3', network: 'lab' },
    ],
    host: '127.0.0.1 localhost\n127.0.1.1 myhost\n\n10.0.0.5 intranet\n\n',
  });
  assert.equal(text, [
    '# nsbox: hosts of sandbox web, bound over /etc/hosts for its processes (nsbox exec/run, ip netns exec web).',
    '# Rewritten when a sandbox joins or leaves one of its networks: edits are lost.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::\tip6-localnet',
    'ff00::\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    '10.88.0.2\tweb web.nsbox0',
    'fd88::2\tweb web.nsbox0',
    '10.77.0.9\tweb web.lab',
    '10.5.0.2\tweb',
    '10.88.0.3\tdb db.nsbox0',
    'fd88::3\tdb db.nsbox0',
    '10.88.0.4\tcache cache.nsbox0',
    '10.77.0.3\tdb db.lab',
    '',
    '# The host\'s /etc/hosts when this was written:',
    '127.0.0.1 localhost',
    '127.0.1.1 myhost',
    '',
    '10.0.0.5 intranet',
    '',
  ].join('\n'));
});

test('hosts of a sandbox with no address and a host with no /etc/hosts: the localhost lines', () => {
  for (const host of [undefined, '', '\n']) {
    assert.deepEqual(body(renderHosts({ name: 'lonely', own: [], peers: [], host })), [
      '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::\tip6-localnet', 'ff00::\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters',
    ]);
  }
});
