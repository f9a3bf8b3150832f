/**
 * Layer: lab.
 *
 * A running lab's link, found without its file: each end of a link's veth is a recorded
 * interface of its node whose source name is the host name the veth was made under
 * (naming.ts `hostVethName(LAB, LINK, a|b)`, link-veth.ts), so the records say which node and
 * interface are end a and end b.
 */
import { NsboxError } from '../errors.js';
import type { Manager } from '../managed/index.js';
import type { Direction } from './model.js';
import { labSandboxes, nodeName } from './members.js';
import { hostVethName } from './naming.js';

export interface LinkEnd {
  node: string;
  sandbox: string;
  iface: string;
}

export interface LinkEnds {
  link: string;
  a: LinkEnd;
  b: LinkEnd;
}

/** Both ends of `link` of `lab`; NOT_FOUND naming the link when the lab has no such link. */
export function linkEnds(manager: Manager, lab: string, link: string): LinkEnds {
  const sandboxes = labSandboxes(manager, lab);
  if (sandboxes.length === 0) throw new NsboxError(`no lab named ${lab} is up (see \`nsbox ls\`)`, 'NSBOX_ERR_NOT_FOUND');
  const end = (side: 'a' | 'b'): LinkEnd | undefined => {
    const src = hostVethName(lab, link, side);
    for (const s of sandboxes) {
      const i = s.record.config.interfaces.find((x) => x.network === undefined && x.srcName === src);
      if (i !== undefined) return { node: nodeName(lab, s.record.name), sandbox: s.record.name, iface: i.dstName };
    }
    return undefined;
  };
  const a = end('a');
  const b = end('b');
  if (a === undefined || b === undefined) throw new NsboxError(`lab ${lab} has no link named ${link}`, 'NSBOX_ERR_NOT_FOUND');
  return { link, a, b };
}

/** The sending and the receiving end of a direction (`a->b`: sent by a, received by b). */
export const directionEnds = (ends: LinkEnds, dir: Direction): { from: LinkEnd; to: LinkEnd } => (dir === 'a->b' ? { from: ends.a, to: ends.b } : { from: ends.b, to: ends.a });
