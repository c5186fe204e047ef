// The Wasm core's exports. The boundary carries numbers only (see bindings/): addresses as f64
// (integers), 64-bit values as two u32 halves, counters as f64.
import { staging } from "./config/store";
import { initConfigPorts } from "./dispatch/config-mechanisms";

// 0xCF8 and 0xCFC-0xCFF exist on every bus: they take region ids 1 and 2.
initConfigPorts();

export {
  addFunction, addFunctionBelow, removeFunction, loadPlanes, configRead, planeByte,
  slotAt, slotAddress, slotParent,
} from "./config/store";
export {
  configWrite, configPoke, setEcam, barHandler, addRegion, removeRegion, regionBaseOf, regionSizeOf, regionLengthOf, barSizeOf, barBaseOf,
} from "./boundary";
export { mmioRead, mmioReadHigh, mmioWrite, mmioRead32, mmioWrite32, ioRead, ioWrite } from "./dispatch/access";
export { barAttach, barKind, barMapped, barRegion } from "./dispatch/bar-mapper";
export {
  regionReads, regionWrites, regionSlot, regionBar, regionKind, counterValue, countInvalid,
} from "./dispatch/regions";

export { regfileCreate, regfileDrop } from "./dispatch/regfile";
export { doorbellCreate, doorbellDrop, eventsQueued, eventsDrain } from "./dispatch/doorbell";
export { effectsQueued, effectsDrain } from "./dispatch/effects";
export { hostMailbox } from "./dispatch/host";
export {
  replayBatch, batchAddress, resultsAddress, statusAddress, mismatchAddress, batchCapacity,
} from "./dispatch/replay";

export {
  irqAttach, intxSet, intxRoute, intxRouteOf, lineLevel, msiSignal, msixSignal, irqQueued, irqDrain,
} from "./irq/index";

export {
  ramAdd, ramRemove, ramBase, ramSize, ramAddress, ramCount,
  domainCreate, domainDestroy, domainType, domainMap, domainUnmap, domainTranslate, domainPerms,
  dmaAttach, dmaDetach, dmaDomainOf, dmaRead, dmaWrite, dmaSg, dmaTranslate,
  dmaBufferAddress, dmaSgAddress, dmaSegmentsAddress, dmaFaultsAddress, dmaFaultsQueued, dmaFaultsDrain,
  dmaCounter, dmaTableCount, dmaIotlbValid, dmaReset,
} from "./dma/index";

export { stateSave, stateLoad, stateAddress, stateBuffer } from "./state/index";

/** Address of the staging area the bindings fill before loadPlanes and regfile creation. */
export function stagingAddress(): u32 {
  return <u32>staging;
}
