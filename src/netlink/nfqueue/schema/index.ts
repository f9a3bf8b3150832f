/**
 * Layer: netlink/nfqueue/schema — nfnetlink_queue schema, pure.
 *
 * The schema's public surface: constants, the message codecs, the /proc statistics line, and the
 * NFQUEUE xtables target's struct.
 */
export * from './constants.js';
export * from './message.js';
export * from './proc-stats.js';
