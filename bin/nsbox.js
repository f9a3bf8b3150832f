#!/usr/bin/env node
// nsbox CLI entry for `node bin/nsbox.js …` (tests, scripts): the same as bin/nsbox.cjs, which
// bin/nsbox runs directly (a CommonJS entry starts faster than an ES module).
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./nsbox.cjs');
