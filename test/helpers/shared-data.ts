// Where the shared reference data lives: ../shared/data beside the checkout (as on every
// developer machine and in CI), or VPCI_SHARED_DATA when set.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The shared reference data folder (its README says what each file is). */
export const SHARED_DATA = process.env.VPCI_SHARED_DATA ?? resolve(ROOT, '../shared/data');
