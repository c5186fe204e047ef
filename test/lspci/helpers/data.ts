// Access to the shared reference data (../shared/data beside the checkout; see its README).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_DATA } from '../../helpers/shared-data.js';

/** Root of the reference data. */
export const DATA = SHARED_DATA;
/** QEMU pc-full recordings. */
export const QEMU = join(DATA, 'qemu');
/** Firecracker sysfs captures. */
export const FIRECRACKER = join(DATA, 'firecracker');

/** Text of a reference file. */
export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** One Firecracker function: its BDF, raw config bytes and .info text. */
export interface FirecrackerCapture {
  bdf: string;
  config: Uint8Array;
  info: string;
}

/** All Firecracker captures, sorted by BDF. */
export function firecrackerCaptures(): FirecrackerCapture[] {
  return readdirSync(FIRECRACKER)
    .filter((f) => f.endsWith('.config'))
    .sort()
    .map((f) => {
      const bdf = f.slice(0, -'.config'.length);
      return {
        bdf,
        config: new Uint8Array(readFileSync(join(FIRECRACKER, f))),
        info: readText(join(FIRECRACKER, `${bdf}.info`)),
      };
    });
}
