/**
 * Layer: lab (pure).
 *
 * The JSON Schema (draft 2020-12) of a lab file, for editors (yaml-language-server:
 * `# yaml-language-server: $schema=…/docs/lab.schema.json`), made from the zod schema so the
 * two never disagree. docs/lab.schema.json is this function's output (a unit test compares).
 * It describes the file as written (defaults are optional keys); what spans several values
 * (references, subnets) only the loader checks.
 */
import { z } from 'zod';
import { LabFileSchema } from './schema.js';

export function labJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(LabFileSchema, { io: 'input', target: 'draft-2020-12' });
}

/** The text of docs/lab.schema.json. */
export function labJsonSchemaText(): string {
  return `${JSON.stringify(labJsonSchema(), null, 2)}\n`;
}
