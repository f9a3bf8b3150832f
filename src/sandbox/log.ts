/**
 * Layer: sandbox.
 *
 * Debug and warning output, off unless NODE_DEBUG=nsbox (no logging dependency).
 */
import { debuglog } from 'node:util';

export const debug = debuglog('nsbox');
