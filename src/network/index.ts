/**
 * Layer: network. Bridge and macvlan networks with IPAM, and attaching sandboxes to them.
 */
export {
  Networks, DEFAULT_NETWORK, type NetworkCreateOptions, type NetworkInfo, type AttachOptions, type Attachment, type MacvlanMode,
} from './networks.js';
export { parseSubnet, nextFree, checkAssignable, macFromIPv4, defaultGateway, subnetContains, subnetsOverlap, type Subnet } from './ipam.js';
export { hostVethName, vethTag, bridgeTag, defaultBridgeName, checkName } from './names.js';
export type { Lease } from '../store/index.js';
