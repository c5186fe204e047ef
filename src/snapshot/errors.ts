// The snapshot layer's error: names the place in the blob (header field, or the path of a value
// in the body: "body.core.functions[3].config") and what is wrong there.
import { VpciError } from '../errors.js';

/** A snapshot cannot be taken or restored; the bus is unchanged. */
export class SnapshotError extends VpciError {
  override name = 'SnapshotError';
  constructor(readonly place: string, readonly problem: string) {
    super(`snapshot: ${place}: ${problem}`);
  }
}
