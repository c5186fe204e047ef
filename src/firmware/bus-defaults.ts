// The firmware options for a whole Bus when the caller gives none: what `vpci enumerate`, the
// demo and the runtime scenario use, so all of them enumerate a topology the same way.
import type { Bus } from '../bus.js';
import { DEFAULT_WINDOWS } from './enumerate.js';
import type { FirmwareOptions } from './enumerate.js';
import { routeFromTable } from './interrupt-routing.js';

/**
 * The firmware options a platform uses with a bus when given none: the default apertures, every
 * segment from its root bus to the end of its ECAM window, hotplug reserves on capable bridges,
 * BARs a topology fixed kept, and Interrupt Line from the bus's own INTx routing.
 */
export function firmwareDefaults(bus: Bus, overrides: FirmwareOptions = {}): FirmwareOptions {
  // Overrides given as undefined keep the default.
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return {
    policy: 'largest-first',
    windows: DEFAULT_WINDOWS,
    segments: bus.topology.segments.map((s) => ({ segment: s.segment, rootBus: s.ecam?.busStart ?? 0, maxBus: s.ecam?.busEnd ?? 255 })),
    hotplugBridges: 'capable',
    keepAssigned: true,
    irqRoute: routeFromTable(bus.interrupts),
    ...given,
  };
}
