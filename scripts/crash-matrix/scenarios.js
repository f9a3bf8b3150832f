/**
 * The crash matrix's scenarios (scripts/crash-matrix.js): each state-changing command with what
 * it needs made once per state root (`prepare`), before each kill (`setup`), whether its effect
 * is in place (`done`, on the database's rows), how a runtime runs it again (`rerun`) and its
 * clean-up. Set-ups and clean-ups run through `x` (run.js `runner`): in-process by default.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { must } from './run.js';

const LAB_FILE = (lab) => `lab: ${lab}
networks:
  lan: { subnet: 10.151.0.0/24 }
nodes:
  a:
    interfaces: { eth0: { network: lan, address: 10.151.0.2/24 } }
  b:
    interfaces: { eth0: { network: lan, address: 10.151.0.3/24 } }
links:
  - name: wan
    a: { node: a, iface: wan0, address: 10.161.0.1/30 }
    b: { node: b, iface: wan0, address: 10.161.0.2/30 }
`;

export const CNI_NET = 'cmcni';
export const cniConfig = { cniVersion: '1.0.0', name: CNI_NET, type: 'nsbox-cni', bridge: 'brcmcni', isGateway: true, isDefaultGateway: true, ipMasq: true, ipam: { type: 'nsbox', subnet: '10.171.0.0/24' } };
export const CNI_NETNS = '/run/netns/cm-ctr';

function ensureRuntimeNetns() {
  if (!existsSync(CNI_NETNS)) execFileSync('ip', ['netns', 'add', 'cm-ctr']);
}

function hostVeth(a, b) {
  for (const n of [a, b]) spawnSync('ip', ['link', 'del', n], { stdio: 'ignore' });
  execFileSync('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
}

const has = (db, name) => db.sandboxes.some((s) => s.name === name);
/** Whether `name` holds a lease (leases are owned by the sandbox's key). */
const leases = (db, name) => db.leases.some((l) => l.owner === name || l.owner.endsWith(`/${name}`));

/** name → { prepare(root), setup(root), step, done(db), cleanup(root) } */
export const SCENARIOS = {
  create: {
    step: { args: ['create', 'x'] },
    done: (db) => has(db, 'x'),
    cleanup: async (root, x) => must(await x.nsbox(root, 'rm', 'x'), 'rm x'),
  },
  'iface add': {
    setup: async (root, x) => { hostVeth('cmva', 'cmvb'); must(await x.nsbox(root, 'create', 'x'), 'create x'); },
    step: { args: ['iface', 'add', 'x', '--src', 'cmva', '--name', 'inner0', '--ip', '10.95.0.2/24'] },
    done: (db) => db.sandboxes.some((s) => s.name === 'x' && JSON.stringify(s.config).includes('inner0')),
    cleanup: async (root, x) => { must(await x.nsbox(root, 'rm', 'x'), 'rm x'); spawnSync('ip', ['link', 'del', 'cmva'], { stdio: 'ignore' }); },
  },
  connect: {
    prepare: async (root, x) => must(await x.nsbox(root, 'network', 'create', 'n1', '--subnet', '10.181.0.0/24'), 'network create n1'),
    setup: async (root, x) => must(await x.nsbox(root, 'create', 'x'), 'create x'),
    step: { args: ['connect', 'n1', 'x'] },
    done: (db) => leases(db, 'x'),
    cleanup: async (root, x) => must(await x.nsbox(root, 'rm', 'x'), 'rm x'),
  },
  disconnect: {
    prepare: async (root, x) => must(await x.nsbox(root, 'network', 'create', 'n1', '--subnet', '10.181.0.0/24'), 'network create n1'),
    setup: async (root, x) => { must(await x.nsbox(root, 'create', 'x'), 'create x'); must(await x.nsbox(root, 'connect', 'n1', 'x'), 'connect'); },
    step: { args: ['disconnect', 'n1', 'x'] },
    done: (db) => !leases(db, 'x'),
    cleanup: async (root, x) => must(await x.nsbox(root, 'rm', 'x'), 'rm x'),
  },
  run: {
    step: { args: ['run', '--', 'true'] },
    done: () => false,
  },
  rm: {
    prepare: async (root, x) => must(await x.nsbox(root, 'network', 'create', 'n1', '--subnet', '10.181.0.0/24'), 'network create n1'),
    setup: async (root, x) => { must(await x.nsbox(root, 'create', 'x'), 'create x'); must(await x.nsbox(root, 'connect', 'n1', 'x'), 'connect'); },
    step: { args: ['rm', 'x'] },
    done: (db) => !has(db, 'x'),
  },
  'network create': {
    step: { args: ['network', 'create', 'n2', '--subnet', '10.191.0.0/24'] },
    done: (db) => db.networks.some((n) => n.name === 'n2'),
    cleanup: async (root, x) => must(await x.nsbox(root, 'network', 'rm', 'n2'), 'network rm n2'),
  },
  'network rm': {
    setup: async (root, x) => must(await x.nsbox(root, 'network', 'create', 'n2', '--subnet', '10.191.0.0/24'), 'network create n2'),
    step: { args: ['network', 'rm', 'n2'] },
    done: (db) => !db.networks.some((n) => n.name === 'n2'),
  },
  'port add': {
    prepare: async (root, x) => must(await x.nsbox(root, 'network', 'create', 'n1', '--subnet', '10.181.0.0/24'), 'network create n1'),
    setup: async (root, x) => { must(await x.nsbox(root, 'create', 'x'), 'create x'); must(await x.nsbox(root, 'connect', 'n1', 'x'), 'connect'); },
    step: { args: ['port', 'add', 'x', '18080:80'] },
    done: (db) => db.ports.some((p) => p.sandbox === 'x'),
    cleanup: async (root, x) => must(await x.nsbox(root, 'rm', 'x'), 'rm x'),
  },
  'cni add': {
    setup: async () => ensureRuntimeNetns(),
    step: { cni: { command: 'ADD', containerId: 'cm-ctr', netns: CNI_NETNS, config: cniConfig } },
    done: (db) => db.sandboxes.some((s) => s.name.startsWith('cni-')),
    // a runtime whose ADD failed calls DEL, then may ADD again
    rerun: [{ cni: { command: 'DEL', containerId: 'cm-ctr', netns: CNI_NETNS, config: cniConfig } }, { cni: { command: 'ADD', containerId: 'cm-ctr', netns: CNI_NETNS, config: cniConfig } }],
    cleanup: async (root, x) => must(await x.step({ cni: { command: 'DEL', containerId: 'cm-ctr', netns: CNI_NETNS, config: cniConfig } }, root), 'CNI DEL'),
  },
  'cni del': {
    setup: async (root, x) => { ensureRuntimeNetns(); must(await x.step({ cni: { command: 'ADD', containerId: 'cm-ctr', netns: CNI_NETNS, config: cniConfig } }, root), 'CNI ADD'); },
    step: { cni: { command: 'DEL', containerId: 'cm-ctr', netns: CNI_NETNS, config: cniConfig } },
    done: (db) => !db.sandboxes.some((s) => s.name.startsWith('cni-')),
    // DEL must succeed, also again
    alwaysRerun: true,
  },
  'lab up': {
    prepare: async (root) => writeFileSync(join(root, 'lab.yaml'), LAB_FILE('cml')),
    step: (root) => ({ args: ['lab', 'up', '-f', join(root, 'lab.yaml')] }),
    done: (db) => db.labs.some((l) => l.name === 'cml' && l.state === 'up'),
    cleanup: async (root, x) => must(await x.nsbox(root, 'lab', 'down', 'cml'), 'lab down'),
  },
  'lab down': {
    prepare: async (root) => writeFileSync(join(root, 'lab.yaml'), LAB_FILE('cml')),
    setup: async (root, x) => must(await x.nsbox(root, 'lab', 'up', '-f', join(root, 'lab.yaml')), 'lab up'),
    step: { args: ['lab', 'down', 'cml'] },
    done: (db) => db.labs.length === 0,
  },
};
