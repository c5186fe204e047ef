// The pure-TypeScript core: the same numeric interface as the Wasm core. Every argument is first
// coerced exactly as the Wasm boundary coerces it (ToInt32 for i32/u32 parameters, none for f64),
// so both cores see the same numbers and give the same results for any input.
import type { CoreBackend } from '../backend.js';
import { ConfigStore } from './config-store.js';
import { ConfigMechanisms } from './config-mechanisms.js';

export class TsCore implements CoreBackend {
  readonly kind = 'ts' as const;
  private readonly store = new ConfigStore();
  private readonly mech = new ConfigMechanisms(this.store);

  addFunction(seg: number, bus: number, dev: number, fn: number, size: number): number {
    return this.store.addFunction(seg >>> 0, bus >>> 0, dev >>> 0, fn >>> 0, size >>> 0);
  }
  removeFunction(slot: number): number {
    return this.store.removeFunction(slot | 0);
  }
  loadPlanes(slot: number, config: Uint8Array, wmask: Uint8Array, w1cmask: Uint8Array): number {
    return this.store.loadPlanes(slot | 0, config, wmask, w1cmask);
  }
  planeByte(slot: number, plane: number, offset: number): number {
    return this.store.planeByte(slot | 0, plane >>> 0, offset >>> 0);
  }
  configRead(seg: number, bus: number, dev: number, fn: number, reg: number, size: number): number {
    return this.store.configRead(seg >>> 0, bus >>> 0, dev >>> 0, fn >>> 0, reg >>> 0, size | 0);
  }
  configWrite(seg: number, bus: number, dev: number, fn: number, reg: number, size: number, value: number): void {
    this.store.configWrite(seg >>> 0, bus >>> 0, dev >>> 0, fn >>> 0, reg >>> 0, size | 0, value >>> 0);
  }
  setEcam(seg: number, base: number, busStart: number, busEnd: number): number {
    return this.mech.setEcam(seg >>> 0, +base, busStart >>> 0, busEnd >>> 0);
  }
  mmioRead(addr: number, size: number): number {
    return this.mech.mmioRead(+addr, size | 0);
  }
  mmioReadHigh(): number {
    return this.mech.mmioReadHigh();
  }
  mmioWrite(addr: number, size: number, value: number, high: number): void {
    this.mech.mmioWrite(+addr, size | 0, value >>> 0, high >>> 0);
  }
  ioRead(port: number, size: number): number {
    return this.mech.ioRead(port >>> 0, size | 0);
  }
  ioWrite(port: number, size: number, value: number): void {
    this.mech.ioWrite(port >>> 0, size | 0, value >>> 0);
  }
}
