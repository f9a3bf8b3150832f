/**
 * Layer: lab.
 *
 * `lab impair`: change a running link's impairments in one or both directions by merging the
 * given fields into what is live (read back from the kernel: the rate from the sender's tbf,
 * the loss from the receiver's fault table), so setting the loss keeps the rate and the other
 * way round; `clear` first takes that direction's impairments away. The change lasts until
 * the next `up` (which returns the links to their file) or a healed impairment fault on the
 * link (which returns it to the file's, with the remaining faults' over it).
 */
import { NsboxError } from '../errors.js';
import type { Manager } from '../managed/index.js';
import { mergeImpairment } from './fault-record.js';
import { linkEnds } from './link-ends.js';
import { applyImpairment, checkImpairmentSupported, readImpairment } from './link-impairment.js';
import type { Direction, Impairment } from './model.js';

export interface ImpairOptions extends Impairment {
  /** Default `both`. */
  dir?: Direction | 'both';
  /** Take the direction's impairments away first. */
  clear?: boolean;
}

export interface ImpairResult {
  lab: string;
  link: string;
  directions: { dir: Direction; before: Impairment; after: Impairment; notes: string[] }[];
}

export async function impair(manager: Manager, lab: string, link: string, options: ImpairOptions): Promise<ImpairResult> {
  const given: Impairment = {};
  for (const k of ['rate', 'loss', 'delay', 'jitter'] as const) if (options[k] !== undefined) given[k] = options[k];
  if (Object.keys(given).length === 0 && options.clear !== true) {
    throw new NsboxError('nothing to change: give --rate, --loss, --delay or --jitter, or --clear', 'NSBOX_ERR_USAGE');
  }
  const dirs: Direction[] = options.dir === undefined || options.dir === 'both' ? ['a->b', 'b->a'] : [options.dir];
  return manager.labLocked(lab, async () => {
    linkEnds(manager, lab, link);
    // Every direction's result checked before any is changed (a jitter needs its delay).
    const plans: { dir: Direction; before: Impairment; want: Impairment }[] = [];
    for (const dir of dirs) {
      const before = await readImpairment(manager, lab, link, dir);
      const want = mergeImpairment(options.clear === true ? {} : before, given);
      checkImpairmentSupported(want, `lab impair ${link} ${dir}`);
      plans.push({ dir, before, want });
    }
    const directions: ImpairResult['directions'] = [];
    for (const { dir, before, want } of plans) {
      const { notes } = await applyImpairment(manager, lab, link, dir, want);
      directions.push({ dir, before, after: await readImpairment(manager, lab, link, dir), notes });
    }
    return { lab, link, directions };
  });
}
