/**
 * Layer: netlink/wire — pure codec, no I/O.
 *
 * The wire layer's public surface.
 */
export * from './header.js';
export * from './attr.js';
export * from './message.js';
export * from './error.js';
