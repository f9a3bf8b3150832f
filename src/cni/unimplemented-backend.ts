/**
 * Layer: cni (process edge).
 *
 * A backend that does nothing (kept for the unit tests of runCni, which need one): every
 * operation refuses with a spec error saying so, and nothing pretends to succeed.
 *
 * - ADD, DEL, CHECK, GC: code 4, naming CNI_COMMAND. The spec has no "not implemented" code;
 *   4 is its code for an environment variable the plugin cannot act on, CNI_COMMAND among them
 *   ("Invalid necessary environment variables, like CNI_COMMAND"), and it is what the Go skel
 *   answers for a command a plugin does not handle ("unknown CNI_COMMAND"). 2 would be wrong:
 *   it is about a field of the network config, and the config is fine. 11 would be a lie (no
 *   retry will help).
 * - STATUS: code 50, the spec's exact answer: this plugin cannot service ADD requests.
 */
import type { CniBackend } from './backend.js';
import { CNI_ERR, CniError } from './errors.js';

const DETAILS = 'this nsbox-cni build answers VERSION and checks every request (environment, config, versions), but does not act on the kernel yet';

function notImplemented(command: string): () => Promise<never> {
  return () => Promise.reject(new CniError(CNI_ERR.INVALID_ENV, `CNI_COMMAND=${command} is not implemented by this nsbox-cni yet`, { field: 'CNI_COMMAND', details: DETAILS }));
}

export const UNIMPLEMENTED_BACKEND: CniBackend = {
  add: notImplemented('ADD'),
  del: notImplemented('DEL'),
  check: notImplemented('CHECK'),
  gc: notImplemented('GC'),
  status: () => Promise.reject(new CniError(CNI_ERR.NOT_AVAILABLE, 'nsbox-cni cannot service ADD requests yet', { details: DETAILS })),
};
