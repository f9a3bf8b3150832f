/**
 * Layer: network.
 *
 * The driver table: each kind of network by the name its records and `--driver` use.
 */
import { ConfigError } from '../errors.js';
import { bridgeDriver } from './bridge.js';
import type { NetworkDriverName } from './create-options.js';
import type { NetworkDriver } from './driver.js';
import { macvlanDriver } from './macvlan.js';
import { overlayDriver } from './overlay.js';

const DRIVERS: Readonly<Record<NetworkDriverName, NetworkDriver>> = { bridge: bridgeDriver, macvlan: macvlanDriver, overlay: overlayDriver };

/** The drivers' names, as `--driver` takes them. */
export const DRIVER_NAMES = Object.keys(DRIVERS) as readonly NetworkDriverName[];

/** The driver named `name`; ConfigError (field 'driver') for one that does not exist. */
export function driverOf(name: string): NetworkDriver {
  if (!Object.hasOwn(DRIVERS, name)) throw new ConfigError(`unknown driver ${JSON.stringify(name)}: ${DRIVER_NAMES.join(' or ')}`, 'driver');
  return DRIVERS[name as NetworkDriverName];
}
