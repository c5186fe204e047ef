// Types of v86-emulator.js, for the TypeScript that imports it (test/linux/).
export const v86Version: string;
/** A loaded, not started V86 instance; typed by the caller (v86's own types do not cover its internals). */
export function loadV86Emulator(settings?: Record<string, unknown>): Promise<unknown>;
