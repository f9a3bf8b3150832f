/**
 * Layer: cli.
 *
 * How nsbox tells a person about another firewall that drops a network's traffic: the chains,
 * what they drop, and the commands to run (indented by four spaces, one per line, each to run
 * as it is), on stderr after `network create` or a `run` that made the default network.
 */
import { describeFinding } from '../managed/index.js';
import type { ForwardFinding } from '../firewall/index.js';

/** The warning for findings of networks just created (empty when there are none). */
export function forwardWarning(findings: readonly ForwardFinding[]): string {
  if (findings.length === 0) return '';
  const networks = [...new Set(findings.map((f) => f.network))];
  const fix = [...new Set(findings.flatMap((f) => f.fix))];
  return [
    `nsbox: warning: the host's firewall drops traffic of network ${networks.join(', ')}:`,
    ...findings.map((f) => `  ${describeFinding(f)}`),
    'nsbox never changes another firewall, and an accept in its own table cannot undo another table\'s drop. To let the network through, run:',
    ...fix.map((c) => `    ${c}`),
    'nsbox\'s own isolation between networks still holds; `nsbox doctor` checks again.',
    '',
  ].join('\n');
}
