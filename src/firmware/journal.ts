// A ConfigAccess that remembers what every write replaced, so a firmware run that fails part way
// can put config space back exactly as it found it. Undoing in reverse order also undoes bus
// renumbering step by step, so each remembered address is routed again when its turn comes.
import type { ConfigAccess } from './config-access.js';

export class JournaledAccess implements ConfigAccess {
  private readonly entries: { bdf: string; offset: number; size: number; old: number }[] = [];

  constructor(private readonly inner: ConfigAccess) {}

  configRead(bdf: string, offset: number, size: number): number {
    return this.inner.configRead(bdf, offset, size);
  }

  configWrite(bdf: string, offset: number, size: number, value: number): void {
    this.entries.push({ bdf, offset, size, old: this.inner.configRead(bdf, offset, size) });
    this.inner.configWrite(bdf, offset, size, value);
  }

  /** Writes back every replaced value, newest first. */
  rollback(): void {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i];
      this.inner.configWrite(e.bdf, e.offset, e.size, e.old);
    }
    this.entries.length = 0;
  }
}
