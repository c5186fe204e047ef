// Per-function interrupt state (layout.ts): the pin, the INTx level the device model drives,
// the line it holds a reference on, and where its MSI and MSI-X capabilities are.
import { MAX_FUNCTIONS } from "../config/layout";
import { blockOf, sizeOf } from "../config/store";
import { STATE_BYTES, GSI_NONE } from "./layout";

const states: usize = heap.alloc(<usize>MAX_FUNCTIONS * STATE_BYTES);
memory.fill(states, 0, <usize>MAX_FUNCTIONS * STATE_BYTES);

// @ts-ignore: decorator
@inline export function stateOf(slot: i32): usize {
  return states + <usize>slot * STATE_BYTES;
}

/** Whether irqAttach has run for a valid slot. */
export function irqAttached(slot: i32): bool {
  return slot >= 0 && <u32>slot < MAX_FUNCTIONS && sizeOf(slot) != 0 && load<u8>(stateOf(slot)) == 1;
}

// @ts-ignore: decorator
@inline export function cfg8(slot: i32, reg: u32): u32 {
  return <u32>load<u8>(blockOf(slot) + <usize>reg);
}

// @ts-ignore: decorator
@inline export function cfg16(slot: i32, reg: u32): u32 {
  return <u32>load<u16>(blockOf(slot) + <usize>reg);
}

// @ts-ignore: decorator
@inline export function cfg32(slot: i32, reg: u32): u32 {
  return load<u32>(blockOf(slot) + <usize>reg);
}

// @ts-ignore: decorator
@inline export function setCfg32(slot: i32, reg: u32, value: u32): void {
  store<u32>(blockOf(slot) + <usize>reg, value);
}

/** The capability walk is the store's (config/store.ts), shared with power management. */
export { findCapability } from "../config/store";

/** Resets a slot's state to "attached, nothing asserted, no line held". */
export function stateReset(slot: i32, pin: u32, msiCap: u32, msixCap: u32): void {
  const s = stateOf(slot);
  store<u8>(s, 1);
  store<u8>(s, <u8>pin, 1);
  store<u8>(s, 0, 2);
  store<u16>(s, <u16>GSI_NONE, 4);
  store<u32>(s, msiCap, 8);
  store<u32>(s, msixCap, 12);
  store<u32>(s, 0, 16);
}
