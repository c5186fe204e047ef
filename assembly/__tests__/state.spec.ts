// Whole-core state save and load (assembly/state/): an image read back into the same core puts
// back what changed since; a short, altered or foreign image is refused and changes nothing.
import { addFunction, loadPlanes, staging, blockOf, configWrite, configRead } from "../config/store";
import { barAttach, barMapped, barBase } from "../dispatch/bar-mapper";
import { stateSave, stateLoad, stateAddress } from "../state/index";
import { ERR_RANGE, ERR_MISMATCH, OK } from "../config/layout";
import { ramAdd, ramAddress, domainCreate, domainMap, dmaAttach, domainPerms } from "../dma/index";

let slot: i32 = -1;
const BAR0: u32 = 0x10;

/** A function with one 4 KiB memory BAR (wmask 0xfffff000) and a writable Command. */
function setup(): void {
  if (slot >= 0) return;
  memory.fill(staging, 0, 3 * 4096);
  store<u32>(staging, 0x12348086);
  store<u16>(staging + 4096 + 4, 0x0007); // Command: IO, memory, bus master
  store<u32>(staging + 4096 + BAR0, 0xfffff000);
  slot = addFunction(0, 0, 3, 0, 256);
  loadPlanes(slot);
  barAttach(slot);
}

/** Where function 00:03.0's BAR 0 is mapped now (0: not mapped). */
function bar0(): u64 {
  return barMapped(slot, 0) != 0 ? barBase(slot, 0) : 0;
}

describe("state save and load", () => {
  beforeEach(() => { setup(); });

  it("loading a saved image puts back config, BAR mappings, RAM layout and domains", () => {
    configWrite(0, 0, 3, 0, BAR0, 4, 0xfe000000);
    configWrite(0, 0, 3, 0, 4, 2, 2);
    expect<u64>(bar0()).toBe(0xfe000000);
    const size = stateSave();
    expect<i32>(size).toBeGreaterThan(3 * 4096);
    // Change everything, then load the image back.
    configWrite(0, 0, 3, 0, BAR0, 4, 0xfd000000);
    configWrite(0, 0, 3, 0, 4, 2, 0);
    expect<u64>(bar0()).toBe(0);
    const ram = ramAdd(0, 0x10000, 1);
    const domain = domainCreate(2);
    expect<i32>(domainMap(<u32>domain, 0x1000, 0, 0x1000, 3)).toBe(OK);
    expect<i32>(dmaAttach(slot, <u32>domain)).toBe(OK);
    expect<i32>(stateLoad(<u32>size)).toBe(OK);
    expect<u32>(configRead(0, 0, 3, 0, BAR0, 4)).toBe(0xfe000000);
    expect<u64>(bar0()).toBe(0xfe000000);
    expect<u32>(ramAddress(<u32>ram)).toBe(0); // the RAM region is gone
    expect<i32>(domainPerms(<u32>domain, 0x1000)).toBeLessThan(0); // and the domain
  });

  it("a short image, another version or other functions are refused and change nothing", () => {
    const size = stateSave();
    const image = stateAddress();
    configWrite(0, 0, 3, 0, BAR0, 4, 0xfc000000);
    expect<i32>(stateLoad(<u32>size - 8)).toBe(ERR_RANGE);
    expect<i32>(stateLoad(<u32>size + 8)).toBe(ERR_RANGE);
    store<f64>(image, 2); // version
    expect<i32>(stateLoad(<u32>size)).toBe(ERR_RANGE);
    store<f64>(image, 1);
    // The image: version, function count, then function 0: slot, seg, bus, parent, dev, ...
    store<f64>(image, 5, 48); // its device number, which must be this core's
    expect<i32>(stateLoad(<u32>size)).toBe(ERR_MISMATCH);
    store<f64>(image, NaN, 32); // its bus
    expect<i32>(stateLoad(<u32>size)).toBe(ERR_RANGE);
    expect<u32>(configRead(0, 0, 3, 0, BAR0, 4)).toBe(0xfc000000);
    expect<u32>(load<u32>(blockOf(slot) + BAR0)).toBe(0xfc000000);
  });
});
