/**
 * Layer: cli.
 *
 * `nsbox lab graph (-f FILE | LAB) [--format mermaid|dot|json|html] [-o OUT]` (docs/labs.md,
 * "Graph"; docs/cli.md): the graph of a lab file, or of a lab that is up (its stored spec,
 * with its active faults marked), printed or written to OUT. A bad lab file prints its
 * problems one per line and exits 2, as `lab up` does.
 */
import { checkLabName } from '../../managed/index.js';
import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { LabFileError, NsboxError } from '../../errors.js';
import { GRAPH_FORMATS, Lab, buildGraph, renderGraph, storedGraph, type GraphFormat, type LabGraph } from '../../lab/index.js';
import type { Runner } from '../context.js';
import { EXIT } from '../exit.js';
import { printJson } from '../output.js';

export function registerLabGraph(lab: Command, run: Runner): void {
  lab.command('graph').description('draw a lab: nodes, networks, interfaces, links with their impairments, faults (mermaid, dot, json, or one self-contained html page)')
    .argument('[lab]', 'a lab that is up (its stored file, with its active faults marked)', checkLabName)
    .option('-f, --file <file>', 'the lab file (YAML) instead of a lab that is up')
    .addOption(new Option('--format <format>', 'output format').choices(GRAPH_FORMATS).default('mermaid'))
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action((name: string | undefined, o: { file?: string; format: GraphFormat; output?: string }) => run(async ({ manager, json }) => {
      if ((name === undefined) === (o.file === undefined)) {
        throw new NsboxError(name === undefined ? 'give a lab file with -f FILE, or the name of a lab that is up' : 'give either a lab name or -f FILE, not both', 'NSBOX_ERR_USAGE');
      }
      let graph: LabGraph;
      if (o.file !== undefined) {
        try {
          graph = buildGraph((await Lab.load(o.file)).spec);
        } catch (err) {
          if (!(err instanceof LabFileError) || json) throw err;
          for (const p of err.message.split('\n')) process.stderr.write(`${p}\n`);
          return EXIT.USAGE;
        }
      } else {
        graph = storedGraph(manager, name!);
      }
      const text = renderGraph(graph, o.format);
      if (o.output === undefined) {
        process.stdout.write(text);
        return EXIT.OK;
      }
      writeFileSync(o.output, text);
      const links = graph.edges.filter((e) => e.kind === 'link').length;
      if (json) printJson({ lab: graph.lab, format: o.format, output: o.output, bytes: Buffer.byteLength(text), nodes: graph.nodes.length, networks: graph.networks.length, links, faults: graph.faults.length });
      else process.stdout.write(`lab ${graph.lab}: ${o.format} graph (${graph.nodes.length} nodes, ${graph.networks.length} networks, ${links} links) written to ${o.output}\n`);
      return EXIT.OK;
    }));
}
