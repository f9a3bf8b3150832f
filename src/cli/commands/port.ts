/**
 * Layer: cli.
 *
 * `nsbox port ls [NAME]`: published ports, as Docker prints them (`0.0.0.0:8080->80/tcp`);
 * `nsbox port add NAME SPEC…` and `nsbox port rm NAME [HOSTPORT[/PROTO]…]` on a sandbox that
 * already runs (what Docker cannot do).
 */
import type { PortMapping } from '../../managed/index.js';
import { parsePortSpecs, portMappingText } from '../../managed/index.js';
import { NsboxError } from '../../errors.js';
import type { PortRecord } from '../../store/index.js';
import type { Register } from '../context.js';
import { printJson, printTable } from '../output.js';

/** A published port's mapping (its host address undefined when it is every address). */
export function portMapping(p: PortRecord): PortMapping {
  return { protocol: p.protocol, hostIp: p.hostIp === '' ? (p.family === 4 ? undefined : '::') : p.hostIp, hostPort: p.hostPort, port: p.port };
}

/** A published port as --json shows it (docs/cli.md, "Port object"). */
export function portJson(p: PortRecord): Record<string, unknown> {
  return {
    sandbox: p.sandbox, network: p.network, protocol: p.protocol, family: p.family, hostIp: p.hostIp === '' ? null : p.hostIp, hostPort: p.hostPort,
    address: p.address, port: p.port, state: p.state,
  };
}

export const register: Register = (program, run) => {
  const port = program.command('port').description('published ports');
  port.command('ls').alias('list').argument('[name]', 'only this sandbox\'s').description('list published ports')
    .action((name: string | undefined) => run(async ({ manager, json }) => {
      const ports = manager.ports(name);
      if (json) return printJson(ports.map(portJson));
      printTable(['SANDBOX', 'PORT', 'TO', 'STATE'], ports.map((p) => [
        p.sandbox, portMappingText(portMapping(p)).replace(/->.*$/, ''), `${p.family === 6 ? `[${p.address}]` : p.address}:${p.port}`, p.state,
      ]));
    }));

  port.command('add').argument('<name>', 'sandbox').argument('<spec...>', '[hostip:]hostport[-end]:port[-end][/tcp|udp] (Docker\'s -p syntax)')
    .description('publish ports of a connected sandbox on the host (all or none)')
    .action((name: string, specs: string[]) => run(async ({ manager, json }) => {
      const ports = await manager.publish(name, parsePortSpecs(specs));
      if (json) return printJson(ports.map(portJson));
      for (const p of ports) process.stdout.write(`${portMappingText(portMapping(p))}\n`);
    }));

  port.command('rm').alias('remove').argument('<name>', 'sandbox').argument('[hostport...]', 'HOSTPORT[/tcp|udp] (default: every published port of the sandbox)')
    .description('unpublish ports of a sandbox')
    .action((name: string, which: string[]) => run(async ({ manager, json }) => {
      const selected = which.map(parseHostPort);
      const gone = await manager.unpublish(name, (p) => selected.length === 0 || selected.some((s) => s.hostPort === p.hostPort && (s.protocol === undefined || s.protocol === p.protocol)));
      if (json) return printJson(gone.map(portJson));
      for (const p of gone) process.stdout.write(`${portMappingText(portMapping(p))}\n`);
    }));
};

/** `8080` or `8080/udp`, as `port rm` takes it. */
function parseHostPort(text: string): { hostPort: number; protocol: 'tcp' | 'udp' | undefined } {
  const m = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(text);
  const hostPort = Number(m?.[1]);
  if (m === null || hostPort < 1 || hostPort > 65535) {
    throw new NsboxError(`bad host port ${JSON.stringify(text)}: expected PORT or PORT/tcp|udp, PORT 1-65535`, 'NSBOX_ERR_USAGE');
  }
  return { hostPort, protocol: m[2] as 'tcp' | 'udp' | undefined };
}
