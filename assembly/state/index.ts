// Saving and loading the whole core (DESIGN.md here): the exports assembly/index.ts re-exports.
import { imageReserve, imageAddress } from "./image";

export { stateSave } from "./save";
export { stateLoad } from "./load";

/** Where the last stateSave wrote its image, and where stateLoad reads one. */
export function stateAddress(): u32 {
  return <u32>imageAddress();
}

/** Makes room for an image of `size` bytes to load; its address, or 0 when memory cannot grow. */
export function stateBuffer(size: u32): u32 {
  return <u32>imageReserve(<usize>size);
}
