#!/usr/bin/env node
'use strict';
// nsbox CLI entry (bin/nsbox runs it; docs/benchmarks.md, "Cold start"). `--version` is answered
// before anything loads. Everything else runs a CommonJS bundle of the CLI: dist/cli-core.cjs
// (every command but lab, cni, agent and gc, and a third of the bytes) for the commands it
// has, else dist/cli.cjs (all of them; also for --help and unknown commands). It is compiled
// with a V8 code cache: dist/cli-HASH-COMMAND-V8.v8cache, one per command (each holds the
// functions its command compiled), HASH the bundle's digest from the build (dist/cli.hash.json),
// so a rebuilt bundle never meets an old cache. A missing or rejected cache is written at exit
// (atomically; skipped where dist/ is read-only). A cache file that is a symlink, not this
// user's or writable by others is not read; V8 verifies the payload's checksum (so a damaged
// one is rejected and rewritten, not run). NSBOX_CODE_CACHE=0 turns it off.
// `nsbox run` and `exec` are first offered to a running `nsbox agent` (dist/cli-run.cjs, src/cli/run-handoff.ts).
// NODE_OPTIONS and NODE_EXTRA_CA_CERTS moved aside by bin/nsbox are put back for the commands
// nsbox runs.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${require('../package.json').version}\n`);
} else {
  for (const v of ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS']) {
    const saved = process.env[`NSBOX_SAVED_${v}`];
    if (saved !== undefined) {
      process.env[v] = saved;
      delete process.env[`NSBOX_SAVED_${v}`];
    }
  }
  // From native/handoff-client.c: the agent could not serve this call (TRIED: do not ask it
  // again; "noagent" when none answered, also from bin/nsbox, which found no agent's socket),
  // or went away during it (REAP: first remove what it may have left of the call's sandbox;
  // REAP_ONLY: the command already ran, only that). After a call no agent answered, one is
  // started on demand for the next calls (src/agent/on-demand.ts).
  const { NSBOX_HANDOFF_TRIED: tried, NSBOX_HANDOFF_REAP: reapName, NSBOX_HANDOFF_REAP_ONLY: reapOnly } = process.env;
  delete process.env.NSBOX_HANDOFF_TRIED;
  delete process.env.NSBOX_HANDOFF_REAP;
  delete process.env.NSBOX_HANDOFF_REAP_ONLY;
  const runHere = () => loadBundle().main(argv).then((code) => {
    process.exitCode = code;
    // Best effort: without an agent only speed is lost, and the call's outcome stands.
    if (tried === 'noagent') return loadBundle().startAgentAfter(argv, __filename).catch(() => undefined);
  });
  if (reapName !== undefined) {
    const root = argv[0] === '--root' ? argv[1] : undefined;
    loadBundle().reapHandedOff(root, reapName).then(
      () => { if (reapOnly !== '1') return runHere(); },
      (err) => {
        process.stderr.write(`nsbox: removing ${reapName}: ${err.message}\n`);
        process.exitCode = 1;
      },
    );
  } else if (tried === undefined && mayHandOff()) {
    // `nsbox run` and `exec` handed to a running `nsbox agent` (src/cli/run-handoff.ts), else run here.
    const handoff = require('../dist/cli-run.cjs');
    const reap = (root, name) => loadBundle().reapHandedOff(root, name);
    handoff.handOff(argv, handoff.helperPath(require('node:path').join(__dirname, '..', 'dist')), reap).then((code) => {
      if (code === undefined) return runHere();
      process.exitCode = code;
    });
  } else {
    runHere();
  }
}

/** Whether the command is `run` or `exec` (after the global options, as loadBundle finds it), and hand-offs are not turned off. */
function mayHandOff() {
  if (process.env.NSBOX_AGENT === '0') return false; // as handOff() says, without loading it
  let i = 0;
  while (i < argv.length && argv[i].startsWith('-') && argv[i] !== '--') i += argv[i] === '--root' || argv[i] === '--host' ? 2 : 1;
  return argv[i] === 'run' || argv[i] === 'exec';
}

var bundle; // var: read by the top-level code above, before this line runs
function loadBundle() {
  bundle ??= compileBundle();
  return bundle;
}

function compileBundle() {
  // With NSBOX_TRACE_STARTUP=1, the loader's own phases for src/trace.ts.
  const marks = process.env.NSBOX_TRACE_STARTUP === '1' ? (globalThis.__nsboxEntryMarks = []) : undefined;
  const mark = (name) => marks?.push([name, performance.now()]);
  mark('bin: entry script evaluated');
  const path = require('node:path');
  const fs = require('node:fs');
  // Read by hand: a require() of it (resolve, read, compile) took ~0.4 ms more.
  const bundles = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'dist', 'cli.hash.json'), 'utf8'));
  let i = 0;
  while (i < argv.length && argv[i].startsWith('-') && argv[i] !== '--') i += argv[i] === '--root' || argv[i] === '--host' ? 2 : 1;
  const { file: name, hash, commands } = bundles.core.commands.includes(argv[i]) ? bundles.core : bundles.full;
  const command = commands.includes(argv[i]) ? argv[i] : '_';
  const file = path.join(__dirname, '..', 'dist', name);
  const setFlag = process.env.NSBOX_CODE_CACHE === '0' ? undefined : v8FlagSetter();
  if (setFlag === undefined) return require(file);
  const vm = require('node:vm');
  const cacheFile = path.join(__dirname, '..', 'dist', `cli-${hash}-${command}-${process.versions.v8}.v8cache`);
  const cachedData = readCache(fs, cacheFile);
  const source = fs.readFileSync(file, 'utf8');
  mark(`bin: bundle read${cachedData === undefined ? '' : ', code cache read'}`);
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  // V8 checks a cache's version, flags, source length and size, but its payload only with this
  // flag (off in release builds): a damaged payload crashed Node. On only while the cache is
  // read and made: it is part of the flags' hash, and Node's own built-ins' code cache,
  // compiled later, would be refused under it.
  setFlag('--verify-snapshot-checksum');
  let script;
  try {
    script = new vm.Script(wrapper, { filename: file, cachedData });
  } finally {
    setFlag('--no-verify-snapshot-checksum');
  }
  mark(`bin: bundle compiled (${cachedData === undefined ? 'no code cache' : script.cachedDataRejected ? 'code cache rejected' : 'code cache used'})`);
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      setFlag('--verify-snapshot-checksum');
      try {
        writeCache(fs, cacheFile, script.createCachedData());
      } finally {
        setFlag('--no-verify-snapshot-checksum');
      }
    });
  }
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, require('node:module').createRequire(file), mod, file, path.dirname(file));
  return mod.exports;
}

/**
 * V8's flag setter without loading node:v8 (which loads the streams: ~10 ms): the binding
 * node:v8 itself uses, with its deprecation warning held back. undefined where it is not
 * there (a future Node): then no code cache is used.
 */
function v8FlagSetter() {
  // --no-deprecation makes process.noDeprecation true and read-only; else it is ours to set for a moment.
  const already = process.noDeprecation === true;
  try {
    if (!already) process.noDeprecation = true;
  } catch { /* read-only */ }
  if (process.noDeprecation !== true) return undefined; // the warning could not be held back: no cache
  try {
    const binding = process.binding('v8');
    return typeof binding.setFlagsFromString === 'function' ? (flag) => binding.setFlagsFromString(flag) : undefined;
  } catch {
    return undefined;
  } finally {
    if (!already) try { process.noDeprecation = false; } catch { /* read-only */ }
  }
}

/**
 * The cache file's bytes, or undefined: not there, not a regular file (a symlink is not
 * followed), not this user's, writable by others, or implausibly large.
 */
function readCache(fs, file) {
  let fd;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const st = fs.fstatSync(fd);
    const uid = process.geteuid?.() ?? st.uid;
    if (!st.isFile() || st.uid !== uid || (st.mode & 0o022) !== 0 || st.size > 64 << 20) return undefined;
    return fs.readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Write the cache whole or not at all: a new file beside it (never through a planted one), synced, renamed over it. */
function writeCache(fs, file, data) {
  const tmp = `${file}.${process.pid}`;
  let fd;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    for (let off = 0; off < data.length;) off += fs.writeSync(fd, data, off);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch {
    if (fd !== undefined) try { fs.closeSync(fd); } catch { /* closed */ }
    try { fs.unlinkSync(tmp); } catch { /* not there */ }
  }
}
