export { HotplugSlot, hotplugSlotBehaviour } from './slot.js';
export type { HotplugHost } from './slot.js';
