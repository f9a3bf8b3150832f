/**
 * Layer: netlink/conntrack/schema — ctnetlink schema, pure.
 *
 * The ctnetlink schema's public surface: constants, the tuple nest, the CTA_FILTER nest and one
 * encode/decode pair for the entry message.
 */
export * from './constants.js';
export * from './tuple.js';
export * from './filter.js';
export * from './message.js';
