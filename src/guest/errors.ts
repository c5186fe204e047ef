// The guest driver kit's one error type: what a driver finds wrong with a device (a capability
// missing, a feature refused, a request that never completed) or with how it was called.
import { VpciError } from '../errors.js';

/** A guest driver could not do what it was asked; the message names the function and the step. */
export class GuestError extends VpciError {
  override name = 'GuestError';
}
