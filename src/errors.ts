// Typed errors of the policy layer. Each names the place: the file (when there is one), the
// path of the field inside it, and what is wrong. Only TypeScript throws; the cores never do.

/** Base class of every error vpci throws. */
export class VpciError extends Error {
  override name = 'VpciError';
}

/**
 * A device descriptor has a bad field. `path` is the field's path inside the descriptor
 * (`bars[0].size`); the topology layer prefixes it with the file and the device.
 */
export class DescriptorError extends VpciError {
  override name = 'DescriptorError';
  constructor(readonly path: string, readonly problem: string) {
    super(`${path}: ${problem}`);
  }
}

/** A topology (object or JSON file) is invalid. The message reads `FILE: devices[3].bars[0].size: problem`. */
export class TopologyError extends VpciError {
  override name = 'TopologyError';
  constructor(readonly source: string, readonly path: string, readonly problem: string) {
    super(`${source}: ${path ? `${path}: ` : ''}${problem}`);
  }
}

/** A bad argument from the embedder (a malformed BDF string, an unknown backend). */
export class ArgumentError extends VpciError {
  override name = 'ArgumentError';
}
