#!/usr/bin/env node
/**
 * Write docs/lab.schema.json from the lab file's zod schema (src/lab/json-schema.ts), after
 * `npm run build:ts`. test/unit/lab/schema.test.ts fails while the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { labJsonSchemaText } = await import(new URL('../dist/src/lab/json-schema.js', import.meta.url).href);
writeFileSync(`${root}docs/lab.schema.json`, labJsonSchemaText());
