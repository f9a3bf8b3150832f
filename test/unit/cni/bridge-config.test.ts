/**
 * Unit: the reference bridge plugin's fields (containernetworking/plugins `NetConf`, cni.dev
 * bridge docs; research cni.md §2.1), read with the same meaning: what nsbox honours is
 * accepted, what it cannot is code 2 naming the field and its value (SPEC §5 code 2), and
 * malformed or out-of-range values are code 7. The decisions are docs/cni.md's table, checked
 * against BRIDGE_FIELDS here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/package-root.js';
import { BRIDGE_FIELDS, parseBridgeConfig } from '../../../src/cni/bridge-config.js';
import { CniError } from '../../../src/cni/errors.js';

const GW = { isGateway: true };

test('defaults (bridge docs: bridge "cni0", everything else off) and every honoured value', () => {
  assert.deepEqual(parseBridgeConfig(GW), { bridge: 'cni0', isDefaultGateway: false, ipMasq: false, mtu: undefined, hairpinMode: false });
  assert.deepEqual(
    parseBridgeConfig({ bridge: 'nsbr0', isGateway: true, isDefaultGateway: true, forceAddress: false, ipMasq: true, ipMasqBackend: 'nftables', mtu: 9000, hairpinMode: true, promiscMode: false, vlan: 0, vlanTrunk: [], preserveDefaultVlan: true, enabledad: false, macspoofchk: false, disableContainerInterface: false, portIsolation: false }),
    { bridge: 'nsbr0', isDefaultGateway: true, ipMasq: true, mtu: 9000, hairpinMode: true },
  );
  assert.equal(parseBridgeConfig({ isDefaultGateway: true }).isDefaultGateway, true, 'isDefaultGateway implies isGateway (bridge docs)');
  assert.equal(parseBridgeConfig({ ...GW, mtu: 0 }).mtu, undefined, 'mtu 0: the kernel default (Go\'s zero value)');
  assert.equal(parseBridgeConfig({ ...GW, ipMasq: null }).ipMasq, false, 'null reads as absent');
  // podman's default conflist (containers-common 87-podman-bridge.conflist), bridge part.
  assert.doesNotThrow(() => parseBridgeConfig({ type: 'bridge', bridge: 'cni-podman0', isGateway: true, ipMasq: true, hairpinMode: true }));
});

test('what nsbox cannot honour is code 2 naming the field and its value (§5 code 2)', () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{}, 'isGateway', /^unsupported field isGateway=false$/], // the reference default: an nsbox bridge always holds the gateways
    [{ isGateway: false }, 'isGateway', /isGateway=false/],
    [{ ...GW, forceAddress: true }, 'forceAddress', /forceAddress=true/],
    [{ ...GW, ipMasqBackend: 'iptables' }, 'ipMasqBackend', /ipMasqBackend="iptables"/],
    [{ ...GW, promiscMode: true }, 'promiscMode', /promiscMode=true/],
    [{ ...GW, vlan: 5 }, 'vlan', /vlan=5/],
    [{ ...GW, vlanTrunk: [{ id: 101 }, { minID: 200, maxID: 299 }] }, 'vlanTrunk', /vlanTrunk=\[\{"id":101\}/],
    [{ ...GW, enabledad: true }, 'enabledad', /enabledad=true/],
    [{ ...GW, macspoofchk: true }, 'macspoofchk', /macspoofchk=true/],
    [{ ...GW, disableContainerInterface: true }, 'disableContainerInterface', /disableContainerInterface=true/],
    [{ ...GW, portIsolation: true }, 'portIsolation', /portIsolation=true/],
  ];
  for (const [raw, field, msg] of cases) {
    assert.throws(() => parseBridgeConfig(raw), (err: unknown) => err instanceof CniError && err.cniCode === 2 && err.field === field && msg.test(err.message) && err.details !== undefined, field);
  }
});

test('malformed and out-of-range values are code 7 naming the field (the reference refuses the same)', () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ ...GW, bridge: 'a-very-long-bridge-name' }, 'bridge', /1 to 15 bytes/],
    [{ ...GW, bridge: 'br 0' }, 'bridge', /bridge name "br 0"/],
    [{ ...GW, bridge: 7 }, 'bridge', /expected a string/],
    [{ isGateway: 'yes' }, 'isGateway', /expected true or false/],
    [{ ...GW, ipMasq: 1 }, 'ipMasq', /expected true or false/],
    [{ ...GW, ipMasqBackend: 'pf' }, 'ipMasqBackend', /expected "iptables" or "nftables"/], // bridge.go: anything else is an error
    [{ ...GW, mtu: 67 }, 'mtu', /below 68/],
    [{ ...GW, mtu: 70000 }, 'mtu', /0 to 65535/],
    [{ ...GW, mtu: 1500.5 }, 'mtu', /an integer/],
    [{ ...GW, mtu: '1500' }, 'mtu', /an integer/],
    [{ ...GW, vlan: 5000 }, 'vlan', /0 to 4094/], // "invalid VLAN ID 5000 (must be between 0 and 4094)"
    [{ ...GW, vlan: -1 }, 'vlan', /0 to 4094/],
    [{ ...GW, vlanTrunk: [{ id: 0 }] }, 'vlanTrunk[0].id', /1 to 4094/],
    [{ ...GW, vlanTrunk: [{ minID: 10 }] }, 'vlanTrunk[0]', /both "minID" and "maxID"/],
    [{ ...GW, vlanTrunk: [{ minID: 30, maxID: 20 }] }, 'vlanTrunk[0]', /greater than maxID/],
    [{ ...GW, vlanTrunk: {} }, 'vlanTrunk', /expected an array/],
    [{ ...GW, hairpinMode: true, promiscMode: true }, 'promiscMode', /hairpin mode and promiscuous mode/], // bridge.go refuses both at once
    [{ ...GW, preserveDefaultVlan: 'no' }, 'preserveDefaultVlan', /expected true or false/],
  ];
  for (const [raw, field, msg] of cases) {
    assert.throws(() => parseBridgeConfig(raw), (err: unknown) => err instanceof CniError && err.cniCode === 7 && err.field === field && msg.test(err.message), `${field}: ${JSON.stringify(raw)}`);
  }
});

test('docs/cni.md\'s bridge-field table is BRIDGE_FIELDS, row for row', () => {
  const doc = readFileSync(join(packageRoot(), 'docs/cni.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Bridge fields'), doc.indexOf('\n## ', doc.indexOf('## Bridge fields') + 1));
  const rows = new Map<string, [string, string]>();
  for (const m of section.matchAll(/^\| `(\w+)` \| [^|]* \| (supported|partly) \| (.+) \|$/gm)) rows.set(m[1]!, [m[2]!, m[3]!]);
  assert.deepEqual([...rows.keys()].sort(), Object.keys(BRIDGE_FIELDS).sort());
  for (const [field, d] of Object.entries(BRIDGE_FIELDS)) assert.deepEqual(rows.get(field), [d.support, d.nsbox], field);
});
