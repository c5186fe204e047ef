// Power-management policy of the bus (what follows PMCSR writes beyond the core's decode rules).
export { installSoftReset } from './soft-reset.js';
export type { SoftResetOptions } from './soft-reset.js';
