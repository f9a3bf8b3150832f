/**
 * Layer: network. Bridge and macvlan networks with IPAM, and attaching sandboxes to them.
 */
export {
  Networks, DEFAULT_NETWORK, type NetworkCreateOptions, type NetworkInfo, type AttachOptions, type Attachment, type MacvlanMode,
} from './networks.js';
export { parseSubnet, nextFree, checkAssignable, macFromIPv4, type Subnet } from './ipam.js';
export { subnetsOverlap, type Cidr } from '../net/cidr.js';
export { hostVethName, vethTag, bridgeTag, checkName } from './names.js';
export type { Lease } from '../store/index.js';
