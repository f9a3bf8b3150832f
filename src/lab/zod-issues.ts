/**
 * Layer: lab (pure).
 *
 * zod's issues as lab problems, worded from their codes (never from zod's own texts, which
 * change between versions): `expected a mapping, got the number 3`, `unknown key (expected
 * one of: …)` with one problem per unknown key, pointing at the key, and unions reduced to
 * the branch that matched the value's type.
 */
import type { z } from 'zod';
import type { PathSegment, RawProblem } from './problems.js';

type Issue = z.core.$ZodIssue;

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string', number: 'a number', int: 'an integer', boolean: 'true or false', array: 'a list', object: 'a mapping', record: 'a mapping',
  literal: 'a constant',
};

/** How a value from the file reads in a message. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `${v}`;
  return typeof v;
}

interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
}

const defOf = (s: z.ZodType): SchemaDef => (s as unknown as { _zod: { def: SchemaDef } })._zod.def;

function unwrap(s: z.ZodType): z.ZodType {
  for (;;) {
    const d = defOf(s);
    if (d.innerType !== undefined) s = d.innerType;
    else if (d.type === 'pipe' && d.in !== undefined) s = d.in;
    else return s;
  }
}

/** The keys the schema allows at `path`, for an unknown key's message. */
export function allowedKeys(schema: z.ZodType, path: readonly PathSegment[]): string[] | undefined {
  let s: z.ZodType | undefined = schema;
  for (const seg of path) {
    s = unwrap(s);
    const d = defOf(s);
    if (d.type === 'union') {
      s = d.options?.map(unwrap).find((o) => (typeof seg === 'number') === (defOf(o).type === 'array'));
      if (s === undefined) return undefined;
    }
    const dd = defOf(s);
    s = dd.type === 'object' ? dd.shape?.[String(seg)] : dd.type === 'record' ? dd.valueType : dd.type === 'array' ? dd.element : undefined;
    if (s === undefined) return undefined;
  }
  const d = defOf(unwrap(s));
  return d.type === 'object' && d.shape !== undefined ? Object.keys(d.shape) : undefined;
}

function typeMismatch(branch: readonly Issue[]): boolean {
  return branch.length > 0 && branch.every((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value'));
}

function expectedOf(i: Issue): string {
  if (i.code === 'invalid_type') return EXPECTED[i.expected] ?? i.expected;
  if (i.code === 'invalid_value') return i.values.map((v) => JSON.stringify(v)).join(' or ');
  return 'something else';
}

/** One zod issue as problems (several for several unknown keys), under `prefix`. */
export function issueProblems(issue: Issue, schema: z.ZodType, prefix: readonly PathSegment[] = []): RawProblem[] {
  const path: PathSegment[] = [...prefix, ...(issue.path as PathSegment[])];
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return [{ path, message: `missing: expected ${EXPECTED[issue.expected] ?? issue.expected}` }];
      return [{ path, message: `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(input)}` }];
    case 'unrecognized_keys': {
      const allowed = allowedKeys(schema, path);
      const hint = allowed === undefined ? '' : ` (expected one of: ${allowed.join(', ')})`;
      return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key${hint}`, atKey: true }));
    }
    case 'invalid_value':
      return [{ path, message: `expected ${issue.values.length > 1 ? 'one of ' : ''}${issue.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}, got ${describeValue(input)}` }];
    case 'too_small':
      if (issue.origin === 'array') return [{ path, message: `needs at least ${Number(issue.minimum)} item${Number(issue.minimum) === 1 ? '' : 's'}` }];
      if (issue.origin === 'string') return [{ path, message: 'must not be empty' }];
      return [{ path, message: `must be at least ${Number(issue.minimum)}${issue.inclusive === false ? ' (exclusive)' : ''}, got ${describeValue(input)}` }];
    case 'too_big':
      if (issue.origin === 'array') return [{ path, message: `takes at most ${Number(issue.maximum)} item${Number(issue.maximum) === 1 ? '' : 's'}` }];
      return [{ path, message: `must be at most ${Number(issue.maximum)}, got ${describeValue(input)}` }];
    case 'invalid_format':
      return [{ path, message: `invalid ${describeValue(input)}: must match ${'pattern' in issue ? String(issue.pattern) : issue.format}` }];
    case 'invalid_key': {
      const key = path[path.length - 1];
      const inner = issue.issues.map((i) => (i.code === 'custom' ? i.message : issueProblems(i, schema)[0]?.message.replace(/^invalid the string "[^"]*"/, 'invalid key')));
      const text = inner.every((m) => m !== undefined && m.startsWith('invalid ')) ? inner.join('; ') : `invalid key ${JSON.stringify(key)}: ${inner.join('; ')}`;
      return [{ path, message: text, atKey: true }];
    }
    case 'invalid_union': {
      const branches = issue.errors;
      const matching = branches.find((b) => !typeMismatch(b));
      if (matching !== undefined) return matching.flatMap((i) => issueProblems(i, schema, path));
      const expected = [...new Set(branches.map((b) => expectedOf(b[0]!)))];
      if (input === undefined) return [{ path, message: `missing: expected ${expected.join(' or ')}` }];
      return [{ path, message: `expected ${expected.join(' or ')}, got ${describeValue(input)}` }];
    }
    case 'custom':
      return [{ path, message: issue.message }];
    default:
      return [{ path, message: issue.message }];
  }
}
