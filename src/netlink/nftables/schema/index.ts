/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The nf_tables schema's public surface: constants, the frame of a transaction, one
 * encode/decode pair per object kind, expressions, and the builders of values, sets, elements
 * and rule statements.
 */
export * from './constants.js';
export * from './nfgenmsg.js';
export * from './batch.js';
export * from './userdata.js';
export * from './data.js';
export * from './table.js';
export * from './chain.js';
export * from './rule.js';
export * from './set.js';
export * from './element.js';
export * from './gen.js';
export * from './expr/index.js';
export * from './values.js';
export * from './datatypes.js';
export * from './set-spec.js';
export * from './typeof.js';
export * from './xt.js';
export * as statements from './statements.js';
