/**
 * Layer: sys. The typed surface of the native addon; everything above imports from here.
 */
export * from './constants.js';
export {
  createNetns, createAndOpenNetns, createNetnsWithNetlink, bindNetns, destroyNetns, openNetns, closeNetns, netnsReplaced,
  withNetns, readFileIn, writeFileIn, openProcfs, flock, type DestroyResult, type CreatedNetns,
} from './netns.js';
export {
  socketIn, openNetlink, bind, sockName, setsockoptInt, setsockoptBytes, send, recv, close, closeInBackground, Poller,
} from './socket.js';
export { execReplace } from './process.js';
