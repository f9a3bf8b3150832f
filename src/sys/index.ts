/**
 * Layer: sys. The typed surface of the native addon; everything above imports from here.
 */
export * from './constants.js';
export {
  createNetns, createAndOpenNetns, bindNetns, destroyNetns, openNetns, closeNetns, netnsReplaced, withNetns, readFileIn, writeFileIn, flock, type DestroyResult,
} from './netns.js';
export {
  socketIn, openNetlink, bind, setsockoptInt, setsockoptBytes, send, recv, close, Poller,
} from './socket.js';
export { native } from './binding.js';
