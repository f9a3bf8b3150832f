/**
 * Layer: lab.
 *
 * The library's handle on a lab (docs/labs.md): load or build it, validated, and compile it
 * into resources. Bringing it up is apply.ts (up), down.ts, status.ts and faults.ts.
 */
import type { CompiledLab } from './compile.js';
import { compileLab } from './compile.js';
import { labFromObject, loadLabFile, parseLab } from './load.js';
import type { LabSpec } from './model.js';

export class Lab {
  readonly spec: LabSpec;
  /** The file it came from, if any. */
  readonly file: string | undefined;

  private constructor(spec: LabSpec, file: string | undefined) {
    this.spec = spec;
    this.file = file;
  }

  /** Read and validate a lab file; LabFileError lists every problem as FILE:LINE:COL: path: message. */
  static async load(path: string): Promise<Lab> {
    return new Lab(await loadLabFile(path), path);
  }

  /** Validate the text of a lab file; `file` names it in problems. */
  static parse(text: string, file: string): Lab {
    return new Lab(parseLab(text, file), file);
  }

  /** Validate a lab given as an object of the file's shape (problems have paths, no positions). */
  static fromObject(value: unknown): Lab {
    return new Lab(labFromObject(value), undefined);
  }

  /** A lab from an already validated spec (a lab record's, spec-json.ts), not checked again. */
  static fromSpec(spec: LabSpec, file?: string): Lab {
    return new Lab(spec, file);
  }

  get name(): string {
    return this.spec.lab;
  }

  /** The lab's resources with stable keys, in dependency order (compile.ts). */
  compile(): CompiledLab {
    return compileLab(this.spec);
  }
}
