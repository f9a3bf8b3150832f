/**
 * Layer: sandbox.
 *
 * osl generateIfaceName: the lowest free numeric suffix for a prefix among the interfaces
 * the sandbox registered (not other links in the namespace), so names stay short.
 */
export function generateIfaceName(prefix: string, taken: Iterable<string>): string {
  const suffixes: number[] = [];
  for (const name of taken) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    if (!/^\+?\d+$/.test(rest)) continue; // '-0', '', 'x1' are not suffixes
    suffixes.push(Number(rest));
  }
  suffixes.sort((a, b) => a - b);
  let i = 0;
  for (const s of suffixes) {
    if (s === i) i++;
    else if (s > i) break;
  }
  return `${prefix}${i}`;
}
