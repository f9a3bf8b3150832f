/**
 * Layer: lab (pure but for reading the file).
 *
 * A lab file to a LabSpec, or a LabFileError listing every problem as
 * `FILE:LINE:COL: path: message`: YAML syntax (the `yaml` package, YAML 1.2, duplicate keys
 * refused, aliases capped), then the schema (schema.ts, all of its issues at once), then the
 * checks across values (check.ts) once the schema holds. Each problem's position is the YAML
 * node at its path, or at the nearest parent that exists (a missing key: its mapping).
 */
import { open } from 'node:fs/promises';
import { LineCounter, isAlias, isMap, isNode, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { LabFileError, NsboxError, type LabProblem } from '../errors.js';
import { checkLab } from './check.js';
import type { LabSpec } from './model.js';
import { pathText, type PathSegment, type RawProblem } from './problems.js';
import { LabFileSchema } from './schema.js';
import { issueProblems } from './zod-issues.js';

/** Aliases a file may expand (yaml's default): a "billion laughs" file is refused, not expanded. */
const MAX_ALIAS_COUNT = 100;

/** Schema, then the checks across values; problems without positions. */
export function validateLab(value: unknown): { spec: LabSpec; problems: [] } | { spec: undefined; problems: RawProblem[] } {
  const parsed = LabFileSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) return { spec: undefined, problems: parsed.error.issues.flatMap((i) => issueProblems(i, LabFileSchema)) };
  const { spec, problems } = checkLab(parsed.data);
  return problems.length === 0 ? { spec, problems: [] } : { spec: undefined, problems };
}

/** The offset of the node at `path` (or of its nearest existing parent; the key itself with atKey). */
function offsetOf(doc: Document, path: readonly PathSegment[], atKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = isNode(node) ? (node.range?.[0] ?? 0) : 0;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const seg = path[i]!;
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (pair === undefined) break;
      const keyOffset = (isNode(pair.key) ? pair.key.range?.[0] : undefined) ?? offset;
      const empty = !isNode(pair.value) || (isScalar(pair.value) && pair.value.value === null && pair.value.source === '');
      if ((i === path.length - 1 && atKey) || empty) {
        offset = keyOffset; // the key itself, or a key with nothing after it (`n2:`)
        break;
      }
      next = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
    }
    if (!isNode(next)) break;
    node = next;
    offset = next.range?.[0] ?? offset;
  }
  return offset;
}

function located(file: string, doc: Document, lines: LineCounter, p: RawProblem): LabProblem {
  const { line, col } = lines.linePos(offsetOf(doc, p.path, p.atKey ?? false));
  return { file, line, col, path: pathText(p.path), message: p.message };
}

function sortedUnique(problems: LabProblem[]): LabProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const k = `${p.line}:${p.col}:${p.path}:${p.message}`;
      return !seen.has(k) && (seen.add(k), true);
    })
    .sort((x, y) => (x.line ?? 0) - (y.line ?? 0) || (x.col ?? 0) - (y.col ?? 0));
}

/** Parse and validate the text of a lab file; `file` names it in the problems. */
export function parseLab(text: string, file: string): LabSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, strict: true });
  const syntax = [...doc.errors, ...doc.warnings];
  if (syntax.length > 0) {
    throw new LabFileError(file, sortedUnique(syntax.map((e) => {
      const { line, col } = lines.linePos(e.pos[0]);
      return { file, line, col, path: '', message: `YAML: ${e.message}` };
    })));
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw new LabFileError(file, [{ file, line: 1, col: 1, path: '', message: `YAML: ${(err as Error).message}` }]);
  }
  const { spec, problems } = validateLab(value);
  if (spec === undefined) throw new LabFileError(file, sortedUnique(problems.map((p) => located(file, doc, lines, p))));
  return spec;
}

/** The largest lab file read (the 1000-node example is ~100 KiB): a device or a runaway file is refused, not read. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

/**
 * A lab file's text. A path that is no file (a NUL in it, a directory, a device, more than
 * 16 MiB, unreadable) is NSBOX_ERR_LAB_FILE naming it; a missing one keeps its ENOENT.
 */
async function readLabText(path: string): Promise<string> {
  const refuse = (why: string, cause?: unknown): NsboxError =>
    new NsboxError(`cannot read lab file ${JSON.stringify(path)}: ${why}; give the path of a YAML lab file`, 'NSBOX_ERR_LAB_FILE', { cause });
  if (typeof path !== 'string' || path.includes('\0')) throw refuse('a path cannot hold a NUL byte');
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    throw refuse((err as Error).message, err);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw refuse('it is a directory');
    if (!st.isFile()) throw refuse('it is not a regular file');
    if (st.size > MAX_FILE_BYTES) throw refuse(`it has ${st.size} bytes, more than ${MAX_FILE_BYTES}`);
    return await handle.readFile('utf8');
  } catch (err) {
    throw err instanceof NsboxError ? err : refuse((err as Error).message, err);
  } finally {
    await handle.close();
  }
}

/** Read, parse and validate a lab file. */
export async function loadLabFile(path: string): Promise<LabSpec> {
  return parseLab(await readLabText(path), path);
}

/** Validate a lab given as a plain object (no YAML, so problems have paths but no positions). */
export function labFromObject(value: unknown): LabSpec {
  const { spec, problems } = validateLab(value);
  if (spec === undefined) throw new LabFileError(undefined, problems.map((p) => ({ path: pathText(p.path), message: p.message })));
  return spec;
}
