// Lint: typescript-eslint recommended (type-aware) plus the layer rules of
// docs/architecture.md: imports point down only, the leaves (errno.ts, errors.ts, net/) import
// no layer, netlink families stay apart, lab/ sits over managed/ and under the process edges, process
// edges (cli/, cni/, cni-conformance/, agent/) never import each other (but cli/ -> agent/ -> cni/) or
// sys/, only src/sys/binding.ts loads the addon, and cni-conformance/ (a black-box client of any CNI
// plugin) imports nothing of nsbox but net/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (files, forbidden, why) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [{ group: [...new Set(forbidden)], message: why }],
    }],
  },
});

/**
 * Netlink protocol families: each is netlink/<family>/{family.ts,schema,ops} (its descriptor, its
 * pure schema, its operations) and never imports another; the socket imports none of them.
 */
const FAMILIES = ['route', 'nftables', 'conntrack', 'nfqueue'];
const familyDirs = FAMILIES.flatMap((f) => [`**/netlink/${f}/**`, `**/${f}/family*`, `**/${f}/schema/**`, `**/${f}/ops/**`]);
const otherFamilies = (family) => FAMILIES.filter((f) => f !== family).map((f) => `**/${f}/**`);

/** Layers bottom-up (docs/architecture.md); `above(x)` forbids everything over x. */
const LAYERS = ['sys', 'netlink', 'sandbox', 'store', 'firewall', 'network', 'managed', 'lab'];
const EDGES = ['cli', 'cni', 'cni-conformance', 'agent'];
/**
 * The only edge-to-edge imports: the agent serves other edges' protocols in-process (cni/'s
 * runCni), and the CLI starts the agent (`nsbox agent`) and installs its shim (`nsbox cni install`).
 */
const EDGE_USES = { agent: ['cni'], cli: ['agent'] };
const above = (layer) => [...LAYERS.slice(LAYERS.indexOf(layer) + 1), ...EDGES].map((l) => `**/${l}/**`);

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['scripts/**/*.js', 'bin/**/*.js', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The CLI's CommonJS entry (it compiles the bundle with a code cache: bin/nsbox.cjs).
    files: ['bin/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { process: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly', __filename: 'readonly', globalThis: 'readonly', performance: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  layer(['src/errno.ts'], ['./*', '../*'], 'errno.ts is the bottom leaf'),
  layer(['src/errors.ts'], ['./*', '../*', '!./errno.js'], 'errors.ts is a leaf over errno.ts'),
  layer(['src/builtins.ts', 'src/trace.ts'], ['./*', '../*'], 'builtins.ts and trace.ts are leaves: every layer may use them'),
  layer(['src/package-root.ts'], ['./*', '../*', '!./errors.js'], 'package-root.ts is a leaf over errors.ts'),
  layer(['src/net/**'], ['../*', '!../errors.js'], 'net/ (addresses and prefixes) is a pure leaf over errors.ts: every layer may use it'),
  layer(['src/netlink/wire/**'], ['**/sys/**', '**/socket*', '**/transport*', '**/native-transport*', '**/family*', ...familyDirs, ...above('netlink')],
    'netlink/wire is a pure codec: no I/O and nothing above it'),
  ...FAMILIES.flatMap((family) => [
    layer([`src/netlink/${family}/*.ts`], ['**/sys/**', '!**/sys/constants*', '**/socket*', '**/transport*', '**/native-transport*', '**/schema/**', '!**/schema/constants*', '**/ops/**', ...otherFamilies(family), ...above('netlink')],
      `netlink/${family}/family.ts describes the family to the socket: its protocol number and message names, nothing else`),
    layer([`src/netlink/${family}/schema/**`], ['**/sys/**', '**/socket*', '**/transport*', '**/native-transport*', '**/ops/**', ...otherFamilies(family), ...above('netlink')],
      `netlink/${family}/schema is pure schema over netlink/wire`),
    layer([`src/netlink/${family}/ops/**`], ['**/sys/binding*', ...otherFamilies(family), ...above('netlink')],
      `netlink/${family}/ops uses its own schema, the socket, wire and sys (not its binding)`),
  ]),
  layer(['src/netlink/*.ts'], ['**/sys/binding*', ...familyDirs, ...above('netlink')], 'the netlink socket sits under the families and imports none of them: it is given a family descriptor'),
  layer(['src/sys/**'], ['**/netlink/**', ...above('sys')], 'sys is the bottom layer'),
  layer(['src/sandbox/**'], ['**/sys/binding*', ...above('sandbox')], 'sandbox sits below store, network and the process edges'),
  layer(['src/store/**'], ['**/sys/**', '**/netlink/**', '**/sandbox/**', ...above('store')], 'store only keeps state'),
  layer(['src/firewall/**'], ['**/sys/binding*', '**/sandbox/**', ...above('firewall')], 'firewall: the nsbox nf_tables table, host ports and sysctls; network drivers call it'),
  layer(['src/network/**'], ['**/sys/binding*', ...above('network')], 'network sits below managed and the process edges'),
  layer(['src/managed/**'], ['**/sys/**', ...above('managed')], 'managed orchestrates the layers below sys-free, under the process edges'),
  layer(['src/lab/**'], ['**/sys/**', ...above('lab')], 'lab (topology files, their resources, later the applier over managed/) sits under the process edges, sys-free'),
  // the overlay's control plane (keyspace, join, the agent loop) sits over managed/ and under the process edges
  layer(['src/overlay/*.ts'], ['**/sys/**', '**/lab/**', ...EDGES.map((e) => `**/${e}/**`)],
    'overlay/ (keyspace, settings, join, the agent loop) sits over managed/ and under the process edges, sys-free'),
  layer(['src/overlay/etcd*.ts'], [...LAYERS, ...EDGES].map((l) => `**/${l}/**`).concat(['../errors*', '../errno*', '../net/**']),
    'overlay/etcd is the etcd client: gRPC and nothing of nsbox'),
  layer(['src/overlay/dataplane/**'], ['**/sys/binding*', '**/sandbox/**', '**/store/**', ...above('firewall'), '**/overlay/etcd*'],
    'overlay/dataplane is the overlay\'s kernel side: netlink, nf_tables and the firewall layer\'s helpers; no etcd, no store, nothing above firewall'),
  ...EDGES.map((edge) => layer([`src/${edge}/**`], ['**/sys/**', ...EDGES.filter((e) => e !== edge && !(EDGE_USES[edge] ?? []).includes(e)).map((e) => `**/${e}/**`)],
    `${edge}/ is a process edge: it calls the layers below (never sys/) and no other edge${EDGE_USES[edge] ? ` but ${EDGE_USES[edge].join(', ')}` : ''}`)),
  // The conformance suite is a black-box client of any CNI plugin: nothing of nsbox but the pure address helpers.
  layer(['src/cni-conformance/**'], [...LAYERS, ...EDGES.filter((e) => e !== 'cni-conformance')].map((l) => `**/${l}/**`).concat(['../errors*', '../errno*', '../index*', '../package-root*']),
    'cni-conformance/ is a black-box client: it may import only net/ (pure address helpers), never nsbox itself'),
);
