// Lint: typescript-eslint recommended (type-aware) plus the layer rule of
// docs/architecture.md: imports point down only, and only src/sys/binding.ts loads the addon.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (files, forbidden, why) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [{ group: forbidden, message: why }],
    }],
  },
});

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
  layer(['src/errors.ts', 'src/errno.ts', 'src/package-root.ts'], ['./*', '../*', '!./errno.js'], 'errors.ts, errno.ts and package-root.ts are leaves'),
  layer(['src/netlink/wire/**'], ['**/sys/**', '**/rt/**', '**/socket*', '**/rtnl*', '**/sandbox/**', '**/cli/**', '**/store/**', '**/network/**'],
    'netlink/wire is a pure codec: no I/O and nothing above it'),
  layer(['src/netlink/rt/**'], ['**/sys/**', '**/socket*', '**/rtnl*', '**/sandbox/**', '**/cli/**', '**/store/**', '**/network/**'],
    'netlink/rt is pure schema over wire'),
  layer(['src/sys/**'], ['**/netlink/**', '**/sandbox/**', '**/cli/**', '**/store/**', '**/network/**'], 'sys is the bottom layer'),
  layer(['src/netlink/socket.ts', 'src/netlink/rtnl/**', 'src/netlink/rtnl.ts'], ['**/sandbox/**', '**/cli/**', '**/store/**', '**/network/**', '**/sys/binding*'],
    'netlink may use sys (not its binding) and wire/rt only'),
  layer(['src/sandbox/**'], ['**/cli/**', '**/store/**', '**/network/**', '**/sys/binding*'], 'sandbox sits below store, network and cli'),
  layer(['src/store/**'], ['**/cli/**', '**/network/**', '**/sys/**', '**/netlink/**'], 'store only keeps state'),
  layer(['src/network/**'], ['**/cli/**', '**/sys/binding*'], 'network sits below cli'),
);
