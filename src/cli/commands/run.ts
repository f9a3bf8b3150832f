/**
 * Layer: cli.
 *
 * `nsbox run [--name N] [--network NET]… [--ip IP] [--keep] -- CMD…`: a fresh sandbox
 * connected to the networks (nsbox0 by default, created on first use), CMD run inside with
 * stdio, signals and exit status passed through, and everything removed when CMD exits
 * (unless --keep). A run killed with SIGKILL leaves records that `nsbox gc` collects.
 */
import { randomBytes } from 'node:crypto';
import { ipVersion } from '../../netlink/wire/ip.js';
import { CliError, EXIT } from '../../errors.js';
import { DEFAULT_NETWORK } from '../../network/index.js';
import type { Context } from '../context.js';
import { createSandbox, removeSandbox, withAdopted } from './sandbox.js';
import { connectAdopted } from './network.js';
import { exitLikeChild, spawnIn, superviseChild } from './exec.js';

/** Label on sandboxes made by `nsbox run`: 'ephemeral' ones are gc'ed once their run died. */
export const RUN_LABEL = 'nsbox.run';
export const RUN_EPHEMERAL = 'ephemeral';

export interface RunFlags {
  name?: string;
  network?: string[];
  ip?: string;
  keep?: boolean;
}

export async function runCommand(ctx: Context, argv: string[], f: RunFlags): Promise<number> {
  if (argv.length === 0) throw new CliError('nothing to run: nsbox run [options] -- CMD [ARGS…]', 'NSBOX_ERR_USAGE', EXIT.USAGE);
  if (f.ip !== undefined && ipVersion(f.ip) === 0) throw new CliError(`invalid --ip ${JSON.stringify(f.ip)}: not an IP address`, 'NSBOX_ERR_USAGE', EXIT.USAGE);
  const networks = f.network?.length ? [...new Set(f.network)] : [DEFAULT_NETWORK];
  for (const net of networks) {
    if (net !== DEFAULT_NETWORK && ctx.networks.get(net) === undefined) {
      throw new CliError(`no network named ${JSON.stringify(net)} (see \`nsbox network ls\`)`, 'NSBOX_ERR_NOT_FOUND', EXIT.NOT_FOUND);
    }
  }
  const name = f.name ?? `run-${randomBytes(4).toString('hex')}`;
  if (networks.includes(DEFAULT_NETWORK)) await ctx.networks.ensureDefault();
  // Held from before the sandbox exists until it is gone: if this process dies, gc knows.
  return ctx.runLocked(name, () => runLocked(ctx, name, networks, argv, f));
}

async function runLocked(ctx: Context, name: string, networks: string[], argv: string[], f: RunFlags): Promise<number> {
  await createSandbox(ctx, name, { [RUN_LABEL]: f.keep ? 'kept' : RUN_EPHEMERAL });
  let result: { code: number; signal?: NodeJS.Signals } | undefined;
  try {
    await withAdopted(ctx, name, async (adopted) => {
      for (const [i, net] of networks.entries()) {
        const ip = i === 0 ? f.ip : undefined;
        await connectAdopted(ctx, adopted, ctx.record(name), net, ipVersion(ip ?? '') === 6 ? { ip6: ip } : { ip });
      }
    });
    // Forwarding starts before the spawn, so a signal in between is not lost.
    result = await superviseChild(spawnIn(ctx.keyOf(name), name, argv), argv[0]!);
  } finally {
    if (!f.keep) {
      const removed = await removeSandbox(ctx, name);
      if (removed.errors.length > 0) process.stderr.write(`nsbox: cleaning up ${name}: ${removed.errors.join('; ')}\n`);
    } else if (!ctx.json) {
      process.stderr.write(`nsbox: kept sandbox ${name}\n`);
    }
  }
  if (result.signal) ctx.close(); // the process may end by the signal right away
  return exitLikeChild(result);
}
