/**
 * Layer: firewall.
 *
 * The nsbox table in the host's nf_tables, kept as the store says: made (or rebuilt, when it
 * is missing or has another layout) in one transaction holding the layout and every desired
 * element; networks and published ports added and removed as elements, each change one
 * transaction; and reconciled against the store under the ruleset's generation id (gc, restore),
 * so what a crash, `nft flush ruleset` or a hand edit left is repaired both ways. Nothing but
 * `inet nsbox` is ever written.
 */
import { NftError, NsboxError } from '../errors.js';
import { withGeneration } from './generation.js';
import { Nft, type NftCapabilities, type NftTransaction } from '../netlink/nftables/ops/index.js';
import { buildElements, type ElementSpec, type SetElement, type SetSpec } from '../netlink/nftables/schema/index.js';
import { LAYOUT_COMMENT, SETS, TABLE, addLayout } from './layout.js';
import { networkElements, ownedElements, portElements, portSet, type FirewallNetwork, type FirewallPort } from './elements.js';
import { readForwardTables } from './coexistence.js';
import type { TableContents } from './forward-eval.js';

/** Everything the table should hold besides its layout. */
export interface FirewallState {
  networks: readonly FirewallNetwork[];
  ports: readonly FirewallPort[];
}

/** What a reconcile changed. */
export interface ReconcileReport {
  /** The table was missing or of another layout, and was rebuilt whole. */
  rebuilt: boolean;
  /** Elements written and removed, as `set: element` texts. */
  added: string[];
  removed: string[];
}


const hex = (b: Uint8Array | undefined): string => (b === undefined ? '' : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));
/** An element's identity: its key (and range end, and interval-end flag); a map's data is compared apart. */
const identity = (e: SetElement): string => `${e.flags ?? 0}/${hex(e.key)}/${hex(e.keyEnd)}`;

/** The raw elements `specs` become in `set` (two per prefix in a plain interval set). */
function raw(set: SetSpec, specs: readonly ElementSpec[]): SetElement[] {
  return specs.length === 0 ? [] : buildElements(set, specs).elements;
}

export class Firewall {
  readonly #nft: Nft;
  /** The state root's tag in the elements' comments (elements.ts `rootTag`); none: every element is this handle's. */
  readonly #tag: string | undefined;

  private constructor(nft: Nft, tag: string | undefined) {
    this.#nft = nft;
    this.#tag = tag;
  }

  /**
   * nf_tables in this process's network namespace (the host's). Needs CAP_NET_ADMIN. `tag`:
   * the state root's (elements.ts `rootTag`): its elements carry it, and reconcile repairs only
   * those (other roots share the table).
   */
  static open(options: { tag?: string } = {}): Firewall {
    return new Firewall(Nft.open(), options.tag);
  }

  close(): void {
    this.#nft.close();
  }

  /** Whether the table is there with this layout. */
  async #layoutPresent(): Promise<boolean> {
    const tables = await this.#nft.listTables({ family: TABLE.family });
    return tables.some((t) => t.name === TABLE.name && t.comment === LAYOUT_COMMENT);
  }

  /** Add to `tx`: the table rebuilt whole (destroyed first, so this works whatever was there) with `state`. */
  #rebuild(tx: NftTransaction, state: FirewallState): void {
    tx.destroyTable(TABLE);
    addLayout(tx);
    const all = portElements(state.ports, networkElements(state.networks, new Map(), this.#tag), this.#tag);
    for (const [set, elements] of all) tx.addElements(set, elements);
  }

  /**
   * Make sure the table is there with this layout; when it is not, build it with `state()` (the
   * store's view) in one transaction. True when it was (re)built.
   */
  async ensure(state: () => FirewallState): Promise<boolean> {
    if (await this.#layoutPresent()) return false;
    return withGeneration(this.#nft, async (genid) => {
      if (await this.#layoutPresent()) return false; // another process made it meanwhile
      const tx = this.#nft.transaction({ genid });
      this.#rebuild(tx, state());
      await tx.commit();
      return true;
    });
  }

  /** A network's elements in (idempotent: an element already there is left as it is). */
  async addNetwork(network: FirewallNetwork, state: () => FirewallState): Promise<void> {
    await this.ensure(state);
    const tx = this.#nft.transaction();
    for (const [set, elements] of networkElements([network], new Map(), this.#tag)) tx.addElements(set, elements);
    await tx.commit();
  }

  /** A network's elements out (those already gone too). */
  async removeNetwork(network: FirewallNetwork): Promise<void> {
    if (!(await this.#layoutPresent())) return;
    const tx = this.#nft.transaction();
    for (const [set, elements] of networkElements([network], new Map(), this.#tag)) tx.destroyElements(set, elements);
    await tx.commit();
  }

  /**
   * Published ports in, all or none, each refused by the kernel when its key (protocol, host
   * address, host port) is taken: NSBOX_ERR_IN_USE naming the port.
   */
  async publish(ports: readonly FirewallPort[], state: () => FirewallState): Promise<void> {
    if (ports.length === 0) return;
    await this.ensure(state);
    const bySet = portElements(ports, new Map(), this.#tag);
    const tx = this.#nft.transaction();
    for (const [set, elements] of bySet) tx.addElements(set, elements, { exclusive: true });
    try {
      await tx.commit();
    } catch (err) {
      if (err instanceof NftError && err.code === 'EEXIST' && err.element !== undefined) {
        const set = [...bySet.keys()].find((s) => err.object === `set ${s.family} ${s.table} ${s.name}`);
        const port = set === undefined ? undefined : ports.filter((p) => portSet(p) === set)[err.element];
        if (port !== undefined) {
          throw new NsboxError(`host port ${port.hostIp ?? (port.family === 4 ? '0.0.0.0' : '::')}:${port.hostPort}/${port.protocol} is already published`, 'NSBOX_ERR_IN_USE', { cause: err });
        }
      }
      throw err;
    }
  }

  /** Published ports out (those already gone too). */
  async unpublish(ports: readonly FirewallPort[]): Promise<void> {
    if (ports.length === 0 || !(await this.#layoutPresent())) return;
    const tx = this.#nft.transaction();
    for (const [set, elements] of portElements(ports, new Map(), this.#tag)) tx.destroyElements(set, elements);
    await tx.commit();
  }

  /**
   * Make the table hold exactly `state` (gc, restore): rebuilt whole when missing or of another
   * layout; otherwise every set's elements diffed against the kernel's, and what is missing
   * added and what is not desired removed, in one transaction under the generation id read
   * before the dump (retried when another process commits in between). With `dryRun`, only
   * the report. A host with no table and nothing to hold is left without one.
   *
   * `state` is read after the generation id: every writer records before it commits its
   * elements, so an element the dump holds was recorded before this read, and one committed
   * after the generation id fails this commit and retries. (Read before, a network recorded and
   * committed in between was taken for a leftover: gc racing `lab up` removed its elements.)
   */
  async reconcile(readState: () => FirewallState, options: { dryRun?: boolean } = {}): Promise<ReconcileReport> {
    return withGeneration(this.#nft, async (genid) => {
      const state = readState();
      const report: ReconcileReport = { rebuilt: false, added: [], removed: [] };
      const tx = this.#nft.transaction({ genid });
      if (!(await this.#layoutPresent())) {
        // Nothing to hold and no table: a host that never had a bridge network gets none.
        if (state.networks.length === 0 && state.ports.length === 0) return report;
        this.#rebuild(tx, state);
        report.rebuilt = true;
        if (!options.dryRun) await tx.commit();
        return report;
      }
      const desired = portElements(state.ports, networkElements(state.networks, new Map(), this.#tag), this.#tag);
      for (const set of Object.values(SETS)) {
        const want = new Map(raw(set, desired.get(set) ?? []).map((e) => [identity(e), e]));
        const listed = await this.#nft.listElements(set);
        const have = new Map(listed.map((e) => [identity(e), e]));
        // other roots' elements (tagged with their roots) are theirs to repair, never this root's
        const mine = ownedElements(listed, this.#tag);
        const stale = [...have].filter(([id, e]) => mine.has(e) && (want.get(id) === undefined || hex(want.get(id)!.data) !== hex(e.data))).map(([, e]) => e);
        const missing = [...want].filter(([id, e]) => have.get(id) === undefined || hex(have.get(id)!.data) !== hex(e.data)).map(([, e]) => e);
        if (stale.length > 0) tx.destroyRawElements(set, stale);
        if (missing.length > 0) tx.addRawElements(set, missing);
        report.removed.push(...stale.map((e) => `${set.name}: ${e.comment ?? identity(e)}`));
        report.added.push(...missing.map((e) => `${set.name}: ${e.comment ?? identity(e)}`));
      }
      if (tx.size > 0 && !options.dryRun) await tx.commit();
      return report;
    });
  }

  /** The other tables' forward chains, with their rules and sets (read only: firewall/coexistence.ts). */
  forwardTables(): Promise<TableContents[]> {
    return readForwardTables(this.#nft);
  }

  /** What this kernel's nf_tables can do (dry runs; nothing is applied). */
  capabilities(): Promise<NftCapabilities> {
    return this.#nft.probe();
  }
}
