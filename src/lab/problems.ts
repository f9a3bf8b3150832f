/**
 * Layer: lab (pure).
 *
 * A problem found in a lab before it has a position: the path of the value in the file
 * (keys and list indexes) and what is wrong with it. load.ts gives it a line and column.
 */

export type PathSegment = string | number;

export interface RawProblem {
  path: PathSegment[];
  message: string;
  /** The problem is about the last key itself (a name), not its value: point at the key. */
  atKey?: boolean;
}

/** 'nodes.n1.interfaces.eth0.address'; a key that would read ambiguously (a '.', a space) is quoted. */
export function pathText(path: readonly PathSegment[]): string {
  return path.map((p) => (typeof p === 'string' && (p === '' || /[.\s"]/.test(p)) ? JSON.stringify(p) : String(p))).join('.');
}
