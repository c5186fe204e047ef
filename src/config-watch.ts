// Watches on config bytes for device models whose registers steer the platform (a PIIX3's PIRQ
// routing). Config writes are served inside the core, so the bus compares the watched bytes after
// each access that can write config space and calls the watchers whose bytes changed. Only
// topologies with such a model pay for it: with no watch the bus skips the check.
import type { CoreBackend } from './core/backend.js';
import { ArgumentError } from './errors.js';

/** Watched bytes at most per watch: a few chipset registers, not a config space. */
const MAX_WATCH_BYTES = 16;
/** Rounds of checks one access may cause when watchers write config space themselves. */
const MAX_PASSES = 8;

interface Watch {
  slot: number;
  offset: number;
  /** The bytes as the watcher last saw them. */
  seen: Uint8Array;
  onChange: () => void;
  /** Dropped while a check ran (its function was removed by a watcher, as a hotplug slot does). */
  dead?: boolean;
}

/** The bus's config-byte watches (`DeviceContext.watchConfig`). */
export class ConfigWatch {
  private readonly watches: Watch[] = [];
  private checking = false;
  /** A config write happened inside a watcher while checking. */
  private again = false;
  private resyncing = false;

  constructor(private readonly core: CoreBackend) {}

  /**
   * True while `resync` calls the watchers after a snapshot restore: the bytes changed because a
   * saved state was loaded, not because anything wrote them. Watchers that act on transitions (a
   * D3hot -> D0 write resets the function, a status bit rising sends an MSI) only take the new
   * bytes as their starting point then.
   */
  get restoring(): boolean {
    return this.resyncing;
  }

  /** Whether any watch exists (the bus checks only then). */
  get active(): boolean {
    return this.watches.length !== 0;
  }

  add(slot: number, space: number, offset: number, length: number, onChange: () => void): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || length < 1 || length > MAX_WATCH_BYTES || offset < 0 || offset + length > space) {
      throw new ArgumentError(`watchConfig(${offset}, ${length}): 1..${MAX_WATCH_BYTES} bytes inside the function's ${space}-byte config space`);
    }
    if (typeof onChange !== 'function') throw new ArgumentError('watchConfig: onChange must be a function');
    const seen = new Uint8Array(length);
    this.read(slot, offset, seen);
    this.watches.push({ slot, offset, seen, onChange });
  }

  /** Drops the watches of a removed function. */
  forget(slot: number): void {
    for (let i = this.watches.length - 1; i >= 0; i--) {
      if (this.watches[i].slot !== slot) continue;
      this.watches[i].dead = true;
      this.watches.splice(i, 1);
    }
  }

  /** Calls the watchers whose bytes changed since they last saw them. */
  check(): void {
    // A watcher that writes config space itself must not recurse into the loop: its write is
    // noted and the loop runs again, so the watchers see that change now rather than after some
    // later, unrelated access (a bounded number of times, in case two watchers keep answering
    // each other: what is left is seen at the next access).
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    try {
      for (let pass = 0; pass < MAX_PASSES; pass++) {
        this.again = false;
        // A copy: a watcher may remove functions (and so watches) while the loop runs.
        for (const w of this.watches.slice()) {
          if (!w.dead && this.changed(w)) w.onChange();
        }
        if (!this.again) break;
      }
    } finally {
      this.checking = false;
      this.again = false;
    }
  }

  /** After a restore: every watcher re-reads its bytes (the state it derived may be stale). */
  resync(): void {
    this.resyncing = true;
    try {
      for (const w of this.watches) {
        this.read(w.slot, w.offset, w.seen);
        w.onChange();
      }
    } finally {
      this.resyncing = false;
    }
  }

  private changed(w: Watch): boolean {
    let changed = false;
    for (let i = 0; i < w.seen.length; i++) {
      const b = this.core.planeByte(w.slot, 0, w.offset + i);
      if (b !== w.seen[i]) {
        w.seen[i] = b;
        changed = true;
      }
    }
    return changed;
  }

  private read(slot: number, offset: number, into: Uint8Array): void {
    for (let i = 0; i < into.length; i++) into[i] = this.core.planeByte(slot, 0, offset + i);
  }
}
