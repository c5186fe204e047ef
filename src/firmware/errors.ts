// Errors of the firmware run that are not allocation failures (those are AllocationError).
import { VpciError } from '../errors.js';

/** Enumeration cannot go on: the message names the function and the resource. */
export class FirmwareError extends VpciError {
  override name = 'FirmwareError';
}
