/**
 * Layer: cli.
 *
 * `nsbox port ls [NAME]`: published ports, as Docker prints them (`0.0.0.0:8080->80/tcp`).
 */
import type { PortMapping } from '../../managed/index.js';
import { portMappingText } from '../../managed/index.js';
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
};
