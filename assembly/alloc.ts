// Allocation that can fail instead of trapping. The stub runtime's heap.alloc grows linear memory
// when it needs to and traps (unreachable) when memory.grow fails — an embedder's memory limit, or
// a platform out of memory. Every allocation the core makes after start-up on behalf of a call
// that can be refused goes through coreAlloc: it grows memory first, by enough that heap.alloc
// cannot need to, and returns 0 when it cannot, so the caller refuses the call (ERR_FULL) with
// nothing changed.

/** Slack above the stub's bump pointer that covers its block header and alignment. */
const SLACK: usize = 64;

/** Where the stub allocator's next block starts: allocate nothing and give it back at once. */
function stubOffset(): usize {
  const probe = heap.alloc(0);
  heap.free(probe); // the last block: the stub takes its offset back
  return probe;
}

/** `size` bytes, or 0 when linear memory cannot grow to hold them. */
export function coreAlloc(size: usize): usize {
  if (size > 0x7fff0000) return 0;
  const need = stubOffset() + size + SLACK;
  const have = <usize>memory.size() << 16;
  if (need > have) {
    const pages = <i32>((need - have + 0xffff) >> 16);
    if (memory.grow(pages) < 0) return 0;
  }
  return heap.alloc(size);
}
