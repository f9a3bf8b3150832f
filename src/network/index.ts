/**
 * Layer: network. Networks with IPAM over a driver per kind (bridge, macvlan), and attaching
 * sandboxes to them.
 */
export {
  Networks, DEFAULT_NETWORK, type NetworkInfo, type AttachOptions, type Attachment, type AssignedAddress, type AssignedAddresses,
} from './networks.js';
export type { NetworkCreateOptions, MacvlanMode } from './create-options.js';
export { parseSubnet, nextFree, checkAssignable, macFromIPv4, type Subnet } from './ipam.js';
export { subnetsOverlap, type Cidr } from '../net/cidr.js';
export { vethTag, bridgeTag, checkName } from './names.js';
export { overlayOwner, overlayLocal, overlaySpec } from './overlay.js';
export type { Lease } from '../store/index.js';
export { DRIVER_NAMES } from './drivers.js';
export { deleteLink, deleteLinksUnlisted } from './link-deletion.js';
