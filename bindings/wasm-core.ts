// Typed wrapper over the Wasm core's exports. It converts numbers at the boundary (results to
// unsigned with >>> 0) and copies planes through the staging area; it holds no PCI logic.
import type { CoreBackend } from '../src/core/backend.js';

/** The raw exports of build/vpci.wasm (all numbers). */
export interface VpciWasmExports {
  memory: WebAssembly.Memory;
  stagingAddress(): number;
  addFunction(seg: number, bus: number, dev: number, fn: number, size: number): number;
  removeFunction(slot: number): number;
  loadPlanes(slot: number): number;
  planeByte(slot: number, plane: number, offset: number): number;
  configRead(seg: number, bus: number, dev: number, fn: number, reg: number, size: number): number;
  configWrite(seg: number, bus: number, dev: number, fn: number, reg: number, size: number, value: number): void;
  setEcam(seg: number, base: number, busStart: number, busEnd: number): number;
  mmioRead(addr: number, size: number): number;
  mmioReadHigh(): number;
  mmioWrite(addr: number, size: number, value: number, high: number): void;
  ioRead(port: number, size: number): number;
  ioWrite(port: number, size: number, value: number): void;
}

const PLANE = 4096;

export class WasmCore implements CoreBackend {
  readonly kind = 'wasm' as const;
  private readonly x: VpciWasmExports;
  private readonly staging: number;

  constructor(instance: WebAssembly.Instance) {
    this.x = instance.exports as unknown as VpciWasmExports;
    this.staging = this.x.stagingAddress() >>> 0;
  }

  addFunction(seg: number, bus: number, dev: number, fn: number, size: number): number {
    return this.x.addFunction(seg, bus, dev, fn, size);
  }
  removeFunction(slot: number): number {
    return this.x.removeFunction(slot);
  }
  loadPlanes(slot: number, config: Uint8Array, wmask: Uint8Array, w1cmask: Uint8Array): number {
    // The memory may have grown since the last call: take a fresh view each time.
    const area = new Uint8Array(this.x.memory.buffer, this.staging, PLANE * 3);
    area.fill(0);
    area.set(config.subarray(0, PLANE), 0);
    area.set(wmask.subarray(0, PLANE), PLANE);
    area.set(w1cmask.subarray(0, PLANE), PLANE * 2);
    return this.x.loadPlanes(slot);
  }
  planeByte(slot: number, plane: number, offset: number): number {
    return this.x.planeByte(slot, plane, offset) >>> 0;
  }
  configRead(seg: number, bus: number, dev: number, fn: number, reg: number, size: number): number {
    return this.x.configRead(seg, bus, dev, fn, reg, size) >>> 0;
  }
  configWrite(seg: number, bus: number, dev: number, fn: number, reg: number, size: number, value: number): void {
    this.x.configWrite(seg, bus, dev, fn, reg, size, value);
  }
  setEcam(seg: number, base: number, busStart: number, busEnd: number): number {
    return this.x.setEcam(seg, base, busStart, busEnd);
  }
  mmioRead(addr: number, size: number): number {
    return this.x.mmioRead(addr, size) >>> 0;
  }
  mmioReadHigh(): number {
    return this.x.mmioReadHigh() >>> 0;
  }
  mmioWrite(addr: number, size: number, value: number, high: number): void {
    this.x.mmioWrite(addr, size, value, high);
  }
  ioRead(port: number, size: number): number {
    return this.x.ioRead(port, size) >>> 0;
  }
  ioWrite(port: number, size: number, value: number): void {
    this.x.ioWrite(port, size, value);
  }
}
