/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * The rt layer's public surface: constants and one encode/decode pair per object kind.
 */
export * from './constants.js';
export * from './link.js';
export * from './addr.js';
export * from './route.js';
export * from './neigh.js';
export * from './nsid.js';
export * from './tc.js';
export * from './tc-handle.js';
export * from './tc-units.js';
