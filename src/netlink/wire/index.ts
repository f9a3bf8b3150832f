/**
 * Layer: netlink/wire — pure codec, no I/O. Imports: sibling wire modules only.
 *
 * The wire layer's public surface.
 */
export * from './header.js';
export * from './attr.js';
export * from './message.js';
export * from './error.js';
