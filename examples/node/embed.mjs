// Embedding vpci in Node: a bus with the default topology on the Wasm core, the firmware run as
// SeaBIOS would before boot, then a guest-style look at the test endpoint's config space.
import { createBus, runFirmware } from 'vpci';

const bus = await createBus({ backend: 'wasm' });
const { map } = runFirmware(bus);

const id = bus.configRead('00:01.0', 0x00, 4);            // device id << 16 | vendor id
const bar0 = bus.configRead('00:01.0', 0x10, 4);          // BAR0 as the firmware placed it
const hex = (v, digits) => v.toString(16).padStart(digits, '0');
console.log(`00:01.0 ${hex(id & 0xffff, 4)}:${hex(id >>> 16, 4)}, BAR0 at 0x${hex(bar0, 8)}`);
console.log(`${map.functions.length} functions, ${map.bridges.length} bridges`);
