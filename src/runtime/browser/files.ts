// Topologies and traces from files a user picked in a page (Blob/File: Web APIs only).
import { TopologyError } from '../../errors.js';
import { resolveTopology } from '../../topology/index.js';
import type { ResolvedTopology } from '../../topology/index.js';
import { TraceFormatError, createReader, detectFormat, readAll } from '../../trace/index.js';
import type { TraceEvent } from '../../trace/index.js';

/**
 * Resolves the topology in `topology` (a picked JSON file); the templates it names are looked up
 * by file name among `others` (the other files picked with it), since a page sees no directories.
 */
export async function topologyFromFiles(topology: File, others: Iterable<File> = []): Promise<ResolvedTopology> {
  const byName = new Map<string, File>();
  for (const f of others) byName.set(f.name, f);
  const readFile = async (path: string) => {
    const name = path.split('/').pop() ?? path;
    const file = byName.get(name);
    if (file === undefined) throw new TopologyError(topology.name, '', `the template "${path}" was not among the files picked (pick it together with the topology)`);
    return new Uint8Array(await file.arrayBuffer());
  };
  return resolveTopology(await topology.text(), { source: topology.name, readFile });
}

/**
 * Reads a trace file of any format vpci reads (vpci binary or text, qtest script or log, KVM
 * trace events), detected from its first bytes; errors name the file and the line or record.
 */
export async function traceFromFile(file: Blob & { name?: string }): Promise<TraceEvent[]> {
  const name = file.name ?? 'the trace';
  const bytes = new Uint8Array(await file.arrayBuffer());
  const format = detectFormat(bytes.subarray(0, 4096));
  if (format === undefined) throw new TraceFormatError({ source: name, field: 'format' }, 'not a trace format vpci reads (vpci binary or text, qtest script or log, KVM trace events)');
  return readAll(createReader(format, { source: name }), bytes);
}
