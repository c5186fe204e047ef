export { allocate } from './allocate.js';
export { AllocationError } from './errors.js';
export type { WindowAttempt, AllocationFailure } from './errors.js';
export { isBridge } from './types.js';
export type {
  BarKind, BarRequest, FunctionRequest, BridgeRequest, Window, RootWindows, Reserves, PolicyName, AllocateOptions,
  AssignedBar, AssignedWindow, Allocation, AllocationRoot, PlacedIn, ReservedRange,
} from './types.js';
