/**
 * Layer: network.
 *
 * The lower layers refuse bad input with a TypeError (an invalid name, CIDR or mode); the
 * network options report it as a ConfigError naming the option (`field`) it came from.
 */
import { ConfigError } from '../errors.js';

/** Run `check`; a TypeError it throws becomes a ConfigError for `field`, with the same message. */
export function asConfigError<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof TypeError) throw new ConfigError(err.message, field, { cause: err });
    throw err;
  }
}
