/**
 * Layer: netlink/wire — pure codec, no I/O.
 *
 * Name <-> number for a kernel enum that options spell as words (a macvlan mode, a route
 * type): the table is written once over the constants, both directions are lookups, and a
 * name that is not in the table is refused with the choices.
 */

export interface EnumCodec<Name extends string> {
  /** Every name, in table order. */
  readonly names: readonly Name[];
  /** The number of `name`; TypeError `invalid <what> "x": a, b or c` for anything else. */
  encode(name: Name, what: string): number;
  /** The name of `n`, or undefined for a number the table does not hold (e.g. a newer kernel's). */
  decode(n: number): Name | undefined;
}

/** A codec over `table` (name -> kernel number); the first name of a number decodes it. */
export function enumCodec<Name extends string>(table: Readonly<Record<Name, number>>): EnumCodec<Name> {
  const byName = new Map<string, number>(Object.entries<number>(table));
  const byNumber = new Map<number, Name>();
  for (const [name, n] of byName) if (!byNumber.has(n)) byNumber.set(n, name as Name);
  const names = [...byName.keys()] as Name[];
  const choices = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]!}` : names.join('');
  return {
    names,
    encode(name: Name, what: string): number {
      const n = typeof name === 'string' ? byName.get(name) : undefined;
      if (n === undefined) throw new TypeError(`invalid ${what} ${JSON.stringify(name)}: ${choices}`);
      return n;
    },
    decode: (n: number): Name | undefined => byNumber.get(n),
  };
}
