// One INTx pin, several sources inside the function: a root port's hot-plug controller and its
// AER root error reporting both raise the port's INTA. The pin is the OR of its sources (PCIe
// §6.7.3.4, §6.2.4.1.2 share it), so a source letting go must not lower a pin another holds.
import type { InterruptService } from './service.js';

/** The pins of a bus's functions, each the OR of named sources. */
export class SharedPins {
  private readonly levels = new Map<string, Map<string, boolean>>();

  constructor(private readonly interrupts: Pick<InterruptService, 'intx'>) {}

  /** Sets `source`'s level on the function's pin; the pin changes only when the OR does. */
  set(path: string, source: string, level: boolean): void {
    let sources = this.levels.get(path);
    if (sources === undefined) {
      sources = new Map();
      this.levels.set(path, sources);
    }
    sources.set(source, level);
    let any = false;
    for (const v of sources.values()) any ||= v;
    this.interrupts.intx(path, any);
  }

  /** Forgets a function's sources (removed, or its pin state restored from a snapshot). */
  forget(path?: string): void {
    if (path === undefined) this.levels.clear();
    else this.levels.delete(path);
  }
}
