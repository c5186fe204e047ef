// TypeScript device models: one call out of Wasm per access. The bindings' import writes the
// outcome into a mailbox in linear memory (read value halves and a status), so one import call
// suffices and an exception in the model never unwinds through the core.
//
//   mailbox: +0 lo u32 | +4 hi u32 | +8 status u32 (0 ok, 1 the model threw)

// @ts-ignore: decorator
@external("host", "access")
declare function hostAccess(handle: u32, write: u32, offset: f64, size: i32, lo: u32, hi: u32): void;

const mailbox: usize = heap.alloc(16);
memory.fill(mailbox, 0, 16);

export function hostMailbox(): u32 {
  return <u32>mailbox;
}

/** Calls the model; returns false when it threw (the access then completes as a master abort). */
export function hostCall(handle: u32, write: bool, offset: u64, size: i32, value: u64): bool {
  store<u32>(mailbox, 0xffffffff);
  store<u32>(mailbox, 0xffffffff, 4);
  store<u32>(mailbox, 0, 8);
  hostAccess(handle, write ? 1 : 0, <f64>offset, size, <u32>value, <u32>(value >> 32));
  return load<u32>(mailbox, 8) == 0;
}

export function hostResult(): u64 {
  return (<u64>load<u32>(mailbox, 4) << 32) | <u64>load<u32>(mailbox);
}
