// The Wasm core's exports. The boundary carries numbers only (see bindings/).
export {
  addFunction, removeFunction, loadPlanes, configRead, configWrite, planeByte,
} from "./config/store";
export { setEcam, mmioRead, mmioReadHigh, mmioWrite, ioRead, ioWrite } from "./dispatch/config-mechanisms";
import { staging } from "./config/store";

/** Address of the staging area the bindings fill before loadPlanes. */
export function stagingAddress(): u32 {
  return <u32>staging;
}
