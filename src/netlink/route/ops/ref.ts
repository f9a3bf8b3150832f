/**
 * Layer: netlink/route/ops — rtnetlink operations.
 *
 * How callers name a link: by index or by name, never an overloaded string.
 */
export type LinkRef = { index: number } | { name: string };

/** Interface names: 1..15 bytes, no '/', no whitespace, not '.' or '..' (dev_valid_name). */
export function checkLinkName(name: string, what = 'link name'): void {
  if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > 15 || /[/\s:]/.test(name) || name === '.' || name === '..') {
    throw new TypeError(`invalid ${what} ${JSON.stringify(name)}: 1 to 15 bytes, no '/', ':' or whitespace`);
  }
}

export function checkRef(ref: LinkRef): void {
  if (ref === null || typeof ref !== 'object') throw new TypeError('a link is named as { index } or { name }');
  if ('index' in ref) {
    if (!Number.isInteger(ref.index) || ref.index <= 0) throw new TypeError(`invalid link index ${String(ref.index)}`);
  } else {
    checkLinkName(ref.name);
  }
}

export function describeRef(ref: LinkRef): string {
  return 'index' in ref ? `ifindex ${ref.index}` : ref.name;
}
