/**
 * Layer: cli. Imports: sandbox.
 *
 * The ifalias nsbox puts on host-side links it creates for a sandbox, so `gc` can find the
 * ones whose sandbox is gone, and never touches links it did not make. The tag names the
 * namespace directory, so separate roots never collect each other's links.
 */
import { basePath } from '../../sandbox/index.js';

export function hostLinkTag(sandbox: string): string {
  return `nsbox:${basePath()}/${sandbox}`.slice(0, 255);
}
