// 'test-device': a small device with behaviour for exercising the device-model API end to end —
// MMIO registers, a scratch register in the core's register file, interrupts on demand (MSI-X,
// MSI or INTx, whichever the guest enabled) and a DMA engine with a 4 KiB buffer. In the spirit
// of QEMU's edu and pci-testdev devices (their feature set, not their register layout).
//
// Identity: 1b36:00fe, class 00/ff/00 (unclassified: no guest driver claims it), revision 1,
// subsystem 1af4:1100. 0x00fe lies in Red Hat's QEMU device-id space (vendor 0x1b36) but is not
// one QEMU assigns (it uses 0x0001-0x0015 and 0x0100 there; edu is 1234:11e8, pci-testdev 1b36:0005).
//
// Resources:
//   BAR 0  mem32 8 KiB   registers in 0x0000-0x0fff, the DMA buffer in 0x1000-0x1fff
//   BAR 2  mem32 4 KiB   MSI-X table (4 vectors) at 0x000, PBA at 0x800 (served by the core);
//                        the rest reads all ones and ignores writes
//   INTA; MSI (1 vector, 64-bit, per-vector masking); MSI-X (4 vectors)
//
// BAR 0 register map (little-endian):
//   0x00 ID           RO  32  0x7e570100: magic 0x7e57 (bits 31:16), version 1.0 (15:8 major, 7:0 minor)
//   0x04 SCRATCH      RW  32  any value; a Wasm-native register file in the core (no host call)
//   0x08 IRQ_RAISE    WO  32  write a vector number v (0..31): see "Interrupts"; reads 0
//   0x0c IRQ_ACK      WO  32  write-1-to-clear bits of IRQ_STATUS; reads 0
//   0x10 IRQ_STATUS   RO  32  bit v: vector v raised and not yet acknowledged
//   0x14 IRQ_RESULT   RO  32  what the last raise did: 0 none yet, 1 message sent, 2 message
//                             pending (vector masked), 3 INTx asserted, 4 refused
//   0x18 BUF_SIZE     RO  32  0x1000, the DMA buffer's size
//   0x1c BUF_OFFSET   RO  32  0x1000, where the buffer is in BAR 0
//   0x20 DMA_SRC      RW  64  source: a bus address (IOVA) or a buffer offset, per DMA_CMD.DIR
//   0x28 DMA_DST      RW  64  destination: the other one
//   0x30 DMA_LEN      RW  32  bytes to move (0..0x1000)
//   0x34 DMA_CMD      RW  32  bit 0 START (write 1: the transfer runs at once; reads 0),
//                             bit 1 DIR (0: guest memory -> buffer, 1: buffer -> guest memory),
//                             bit 2 IRQ (raise vector DMA_CMD[12:8] when the transfer ends),
//                             bits 12:8 the vector; other bits read 0
//   0x38 DMA_STATUS   RO  32  bit 0 DONE, bit 1 ERROR, bits 15:8 the error code:
//                             1 Bus Master Enable off, 2 the IOMMU domain blocks the function,
//                             3 an address unmapped in the IOMMU domain, 4 the mapping forbids the
//                             direction, 5 outside guest RAM, 6 DMA_LEN > 0x1000, 7 buffer offset
//                             + DMA_LEN past the buffer, 8 a bus address at or above 2^53
//   0x1000-0x1fff BUFFER RW   the DMA buffer, byte-addressable
//
// Access rules (every access has a defined result, nothing throws):
//   - 32-bit registers answer 4-byte accesses at their offset; 64-bit registers 8-byte accesses at
//     their offset or 4-byte accesses to either half. Any other size or alignment, and any offset
//     in 0x0000-0x0fff not listed, reads all ones and ignores writes.
//   - An access starting in 0x04-0x07 goes to the scratch register file: it reads and writes the
//     bytes it covers there; bytes past 0x07 read 0xff and are not written (the core's rule).
//   - The buffer takes accesses of any size at any offset; bytes past 0x1fff read 0xff and are not
//     written.
//
// Interrupts: a write of v to IRQ_RAISE (or the end of a DMA with DMA_CMD.IRQ) sets IRQ_STATUS bit
// v and signals it the way the guest set the function up: MSI-X vector v if MSI-X is enabled
// (v >= 4: refused), else MSI vector v modulo the vectors enabled (a function granted fewer
// vectors than it asked for shares them), else INTx, held asserted until IRQ_ACK clears every bit
// raised that way (the core gates the line with Interrupt Disable; Status.Interrupt Status shows
// the level). A refused raise leaves IRQ_STATUS as it was; values above 31 are refused.
//
// DMA: writing DMA_CMD with START checks the length and the buffer range, then moves DMA_LEN bytes
// through the DeviceContext (so Bus Master Enable and the function's IOMMU domain apply): all of
// them or, on a fault, none. DMA_STATUS is then DONE or ERROR with the code; a zero length is DONE
// without a bus cycle. With DMA_CMD.IRQ the interrupt is raised whether the transfer was done or
// failed.
//
// Function-level reset (DeviceInstance.reset) clears every register, the buffer and the INTx level;
// SCRATCH keeps its value: it lives in the core's register file, which a model cannot reach.
import type { FunctionDescriptor } from '../config/index.js';
import type { DmaResult } from '../dma/index.js';
import type { DeviceBehaviour, DeviceContext, DeviceInstance, DeviceState } from './model-api.js';
import type { StateReader } from '../snapshot/check.js';
import { SnapshotError } from '../snapshot/errors.js';

/**
 * The test device's BAR 0 register offsets: ID, SCRATCH, the interrupt registers (raise, ack,
 * status, result), the DMA engine's registers and the 4 KiB buffer at 0x1000.
 */
export const TestDeviceReg = {
  ID: 0x00,
  SCRATCH: 0x04,
  IRQ_RAISE: 0x08,
  IRQ_ACK: 0x0c,
  IRQ_STATUS: 0x10,
  IRQ_RESULT: 0x14,
  BUF_SIZE: 0x18,
  BUF_OFFSET: 0x1c,
  DMA_SRC: 0x20,
  DMA_DST: 0x28,
  DMA_LEN: 0x30,
  DMA_CMD: 0x34,
  DMA_STATUS: 0x38,
  BUFFER: 0x1000,
} as const;

/** What the ID register reads: magic 0x7e57, version 1.0. */
export const TEST_DEVICE_ID = 0x7e570100;
/** Bytes in the DMA buffer (BAR 0 0x1000-0x1fff). */
export const TEST_DEVICE_BUFFER_SIZE = 0x1000;
/** MSI-X vectors the test device has. */
export const TEST_DEVICE_MSIX_VECTORS = 4;

/** DMA_CMD bits. */
export const TestDeviceDmaCmd = { START: 1 << 0, TO_RAM: 1 << 1, IRQ: 1 << 2, VECTOR_SHIFT: 8, VECTOR_MASK: 0x1f } as const;
/** DMA_STATUS bits; the error code is in bits 15:8. */
export const TestDeviceDmaStatus = { DONE: 1 << 0, ERROR: 1 << 1, CODE_SHIFT: 8 } as const;
/** DMA_STATUS error codes. */
export const TestDeviceDmaError = {
  BUS_MASTER_OFF: 1, BLOCKED: 2, UNMAPPED: 3, PERMISSION: 4, OUTSIDE_RAM: 5, LENGTH: 6, BUFFER_RANGE: 7, ADDRESS: 8,
} as const;
/** IRQ_RESULT values. */
export const TestDeviceIrqResult = { NONE: 0, SENT: 1, PENDING: 2, INTX: 3, REFUSED: 4 } as const;

const CMD_BITS = TestDeviceDmaCmd.TO_RAM | TestDeviceDmaCmd.IRQ | (TestDeviceDmaCmd.VECTOR_MASK << TestDeviceDmaCmd.VECTOR_SHIFT);
const FAULT_CODES: Record<Exclude<DmaResult, 'ok'>, number> = {
  'bus-master-off': TestDeviceDmaError.BUS_MASTER_OFF,
  blocked: TestDeviceDmaError.BLOCKED,
  unmapped: TestDeviceDmaError.UNMAPPED,
  permission: TestDeviceDmaError.PERMISSION,
  'outside-ram': TestDeviceDmaError.OUTSIDE_RAM,
};
const TWO32 = 4294967296;
/** Where the descriptor places the capabilities (the model reads their Message Control there). */
const MSI_CAP = 0x50;
const MSIX_CAP = 0x70;
const MSIX_PBA_OFFSET = 0x800;
/** PCI 3.0 §6.8.2: 16 bytes per table entry; the PBA is one bit per vector in whole qwords. */
const MSIX_TABLE_BYTES = 16 * TEST_DEVICE_MSIX_VECTORS;
const MSIX_PBA_BYTES = 8;
const MSI_ENABLE = 0x0001;
const MSIX_ENABLE = 0x8000;

/** The config space of the test device (see the file comment). */
export function testDeviceDescriptor(): FunctionDescriptor {
  return {
    vendorId: 0x1b36,
    deviceId: 0x00fe,
    classCode: 0x00ff00,
    revision: 1,
    subsystemVendorId: 0x1af4,
    subsystemId: 0x1100,
    interruptPin: 1,
    bars: [
      { index: 0, kind: 'mem32', size: 0x2000 },
      { index: 2, kind: 'mem32', size: 0x1000 },
    ],
    capabilities: [
      { id: 'msi', offset: MSI_CAP, vectors: 1, address64: true, perVectorMask: true },
      { id: 'msix', offset: MSIX_CAP, tableSize: TEST_DEVICE_MSIX_VECTORS, tableBar: 2, tableOffset: 0, pbaBar: 2, pbaOffset: MSIX_PBA_OFFSET },
    ],
  };
}

/** The running device: `bus.device<TestDevice>(path)`. */
export interface TestDevice extends DeviceInstance {
  /** The DMA buffer (also BAR 0 0x1000-0x1fff), for tests and embedders. */
  readonly buffer: Uint8Array;
  /** Function-level reset: clears every register, the buffer and the INTx level (SCRATCH, in the core, keeps its value). */
  reset(): void;
}

/** The behaviour of the test device: serves BAR 0 and runs the interrupt and DMA logic. */
export function testDeviceBehaviour(): DeviceBehaviour {
  return { attach: (ctx) => new TestDeviceModel(ctx) };
}

/** A 64-bit register as two 32-bit halves. */
interface Reg64 { lo: number; hi: number }

class TestDeviceModel implements TestDevice {
  readonly buffer = new Uint8Array(TEST_DEVICE_BUFFER_SIZE);
  private readonly view = new DataView(this.buffer.buffer);
  private irqStatus = 0;
  /** IRQ_STATUS bits raised as INTx: the pin is asserted while any is set. */
  private intxBits = 0;
  private intxLevel = false;
  private irqResult: number = TestDeviceIrqResult.NONE;
  private readonly src: Reg64 = { lo: 0, hi: 0 };
  private readonly dst: Reg64 = { lo: 0, hi: 0 };
  private dmaLen = 0;
  private dmaCmd = 0;
  private dmaStatus = 0;

  constructor(private readonly ctx: DeviceContext) {
    // Three handlers around the scratch register file, so that no two overlap.
    ctx.bar(0, { kind: 'regfile', size: 4 }, { offset: TestDeviceReg.SCRATCH, length: 4 });
    ctx.bar(0, { read: (o, s) => this.readReg(o, s), write: (o, s, v) => this.writeReg(o, s, v) }, { offset: 0, length: TestDeviceReg.SCRATCH });
    ctx.bar(0, { read: (o, s) => this.readReg(o, s), write: (o, s, v) => this.writeReg(o, s, v) }, { offset: 8, length: 0x1000 - 8 });
    ctx.bar(0, { read: (o, s) => this.readBuffer(o, s), write: (o, s, v) => this.writeBuffer(o, s, v) }, { offset: TestDeviceReg.BUFFER, length: TEST_DEVICE_BUFFER_SIZE });
    // BAR 2 around the MSI-X table and PBA (which the core serves) reads all ones, like BAR 0's gaps.
    const nothing = { read: (_o: number, s: number) => ones(s), write: () => {} };
    ctx.bar(2, nothing, { offset: MSIX_TABLE_BYTES, length: MSIX_PBA_OFFSET - MSIX_TABLE_BYTES });
    ctx.bar(2, nothing, { offset: MSIX_PBA_OFFSET + MSIX_PBA_BYTES, length: 0x1000 - MSIX_PBA_OFFSET - MSIX_PBA_BYTES });
  }

  reset(): void {
    this.buffer.fill(0);
    this.irqStatus = 0;
    this.intxBits = 0;
    this.setIntx();
    this.irqResult = TestDeviceIrqResult.NONE;
    this.src.lo = this.src.hi = this.dst.lo = this.dst.hi = 0;
    this.dmaLen = this.dmaCmd = this.dmaStatus = 0;
  }

  /** Registers, the buffer and the INTx level the model drives (SCRATCH is a core register file). */
  saveState(): DeviceState {
    return {
      buffer: this.buffer.slice(),
      irqStatus: this.irqStatus,
      intxBits: this.intxBits,
      intxLevel: this.intxLevel,
      irqResult: this.irqResult,
      dmaSrc: new Uint32Array([this.src.lo, this.src.hi]),
      dmaDst: new Uint32Array([this.dst.lo, this.dst.hi]),
      dmaLen: this.dmaLen,
      dmaCmd: this.dmaCmd,
      dmaStatus: this.dmaStatus,
    };
  }

  loadState(r: StateReader): void {
    const buffer = r.get('buffer').bytes(TEST_DEVICE_BUFFER_SIZE);
    const irqStatus = r.get('irqStatus').int(0, 0xffffffff);
    const intxBits = r.get('intxBits').int(0, 0xffffffff);
    // The pin level follows intxBits; the core holds the pin itself (its state is the core's).
    const intxLevel = r.get('intxLevel').bool();
    if (intxLevel !== (intxBits !== 0)) throw new SnapshotError(`${r.place}.intxLevel`, `${intxLevel} does not follow intxBits 0x${intxBits.toString(16)}`);
    const irqResult = r.get('irqResult').int(0, 0xffffffff);
    const src = r.get('dmaSrc').words(2);
    const dst = r.get('dmaDst').words(2);
    const dmaLen = r.get('dmaLen').int(0, 0xffffffff);
    const dmaCmd = r.get('dmaCmd').int(0, CMD_BITS);
    if ((dmaCmd & ~CMD_BITS) !== 0) throw new SnapshotError(`${r.place}.dmaCmd`, `0x${dmaCmd.toString(16)} has bits DMA_CMD never keeps`);
    const dmaStatus = r.get('dmaStatus').int(0, 0xffffffff);
    this.buffer.set(buffer);
    Object.assign(this, { irqStatus, intxBits, intxLevel, irqResult, dmaLen, dmaCmd, dmaStatus });
    [this.src.lo, this.src.hi] = src;
    [this.dst.lo, this.dst.hi] = dst;
  }

  // ---- Registers ----------------------------------------------------------------------------

  private readReg(offset: number, size: number): number | bigint {
    const r = TestDeviceReg;
    if (offset === r.DMA_SRC || offset === r.DMA_DST || offset === r.DMA_SRC + 4 || offset === r.DMA_DST + 4) {
      const reg = offset < r.DMA_DST ? this.src : this.dst;
      if (size === 8 && (offset & 4) === 0) return (BigInt(reg.hi) << 32n) | BigInt(reg.lo);
      if (size === 4) return (offset & 4) === 0 ? reg.lo : reg.hi;
      return ones(size);
    }
    if (size !== 4) return ones(size);
    switch (offset) {
      case r.ID: return TEST_DEVICE_ID;
      case r.IRQ_RAISE: case r.IRQ_ACK: return 0;
      case r.IRQ_STATUS: return this.irqStatus;
      case r.IRQ_RESULT: return this.irqResult;
      case r.BUF_SIZE: return TEST_DEVICE_BUFFER_SIZE;
      case r.BUF_OFFSET: return r.BUFFER;
      case r.DMA_LEN: return this.dmaLen;
      case r.DMA_CMD: return this.dmaCmd;
      case r.DMA_STATUS: return this.dmaStatus;
      default: return ones(4);
    }
  }

  private writeReg(offset: number, size: number, value: number | bigint): void {
    const r = TestDeviceReg;
    if (offset === r.DMA_SRC || offset === r.DMA_DST || offset === r.DMA_SRC + 4 || offset === r.DMA_DST + 4) {
      const reg = offset < r.DMA_DST ? this.src : this.dst;
      if (size === 8 && (offset & 4) === 0) {
        const v = BigInt(value);
        reg.lo = Number(v & 0xffffffffn);
        reg.hi = Number((v >> 32n) & 0xffffffffn);
      } else if (size === 4) {
        if ((offset & 4) === 0) reg.lo = Number(value) >>> 0;
        else reg.hi = Number(value) >>> 0;
      }
      return;
    }
    if (size !== 4) return;
    const v = Number(value) >>> 0;
    switch (offset) {
      case r.IRQ_RAISE: this.raise(v); return;
      case r.IRQ_ACK: this.ack(v); return;
      case r.DMA_LEN: this.dmaLen = v; return;
      case r.DMA_CMD:
        this.dmaCmd = v & CMD_BITS;
        if ((v & TestDeviceDmaCmd.START) !== 0) this.runDma();
        return;
      default: return; // read-only or unimplemented
    }
  }

  private readBuffer(offset: number, size: number): number | bigint {
    const at = offset - TestDeviceReg.BUFFER;
    if (at + size <= TEST_DEVICE_BUFFER_SIZE) {
      if (size === 1) return this.buffer[at];
      if (size === 2) return this.view.getUint16(at, true);
      if (size === 4) return this.view.getUint32(at, true);
      return this.view.getBigUint64(at, true);
    }
    // Straddles the end of the BAR: bytes past it read 0xff.
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(at + i < TEST_DEVICE_BUFFER_SIZE ? this.buffer[at + i] : 0xff);
    return size === 8 ? v : Number(v);
  }

  private writeBuffer(offset: number, size: number, value: number | bigint): void {
    const at = offset - TestDeviceReg.BUFFER;
    let v = BigInt(value);
    for (let i = 0; i < size && at + i < TEST_DEVICE_BUFFER_SIZE; i++) {
      this.buffer[at + i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }

  // ---- Interrupts ---------------------------------------------------------------------------

  /** Raises vector `v` as the guest set the function up (MSI-X, else MSI, else INTx). */
  private raise(v: number): void {
    if (v > 31) {
      this.irqResult = TestDeviceIrqResult.REFUSED;
      return;
    }
    const bit = (1 << v) >>> 0;
    // Message Control as the guest reads it. While no config cycle reaches the function (a bridge
    // above it not forwarding its bus), ctx.configRead reads all ones: MSI-X then looks enabled
    // and the core answers 'disabled' unless it is, so the raise is refused (nothing throws).
    if ((this.ctx.configRead(MSIX_CAP + 2, 2) & MSIX_ENABLE) !== 0) {
      if (v >= TEST_DEVICE_MSIX_VECTORS) {
        this.irqResult = TestDeviceIrqResult.REFUSED;
        return;
      }
      this.signalled(bit, this.ctx.msix(v));
      return;
    }
    const msi = this.ctx.configRead(MSI_CAP + 2, 2);
    if ((msi & MSI_ENABLE) !== 0) {
      // PCI 3.0 §6.8.1.3: enabled vectors = 2^MME, never more than the 2^MMC the function asked for.
      const enabled = 1 << Math.min((msi >> 4) & 7, (msi >> 1) & 7);
      this.signalled(bit, this.ctx.msi(v % enabled));
      return;
    }
    this.irqStatus = (this.irqStatus | bit) >>> 0;
    this.intxBits = (this.intxBits | bit) >>> 0;
    this.irqResult = TestDeviceIrqResult.INTX;
    this.setIntx();
  }

  /** Records a message signal: its status bit unless the core found the capability disabled. */
  private signalled(bit: number, r: 'delivered' | 'pending' | 'disabled'): void {
    if (r === 'disabled') {
      // Only when config reads were all ones (see raise): the capability is not enabled after all.
      this.irqResult = TestDeviceIrqResult.REFUSED;
      return;
    }
    this.irqStatus = (this.irqStatus | bit) >>> 0;
    this.irqResult = r === 'delivered' ? TestDeviceIrqResult.SENT : TestDeviceIrqResult.PENDING;
  }

  private ack(mask: number): void {
    this.irqStatus = (this.irqStatus & ~mask) >>> 0;
    this.intxBits = (this.intxBits & this.irqStatus) >>> 0;
    this.setIntx();
  }

  /** Drives the pin from intxBits, telling the bus only about changes. */
  private setIntx(): void {
    const level = this.intxBits !== 0;
    if (level === this.intxLevel) return;
    this.intxLevel = level;
    this.ctx.intx(level);
  }

  // ---- DMA ----------------------------------------------------------------------------------

  private runDma(): void {
    this.dmaStatus = 0;
    const toRam = (this.dmaCmd & TestDeviceDmaCmd.TO_RAM) !== 0;
    const len = this.dmaLen;
    const bus = toRam ? this.dst : this.src;
    const buf = toRam ? this.src : this.dst;
    let code = 0;
    if (len > TEST_DEVICE_BUFFER_SIZE) {
      code = TestDeviceDmaError.LENGTH;
    } else if (buf.hi !== 0 || buf.lo + len > TEST_DEVICE_BUFFER_SIZE) {
      code = TestDeviceDmaError.BUFFER_RANGE;
    } else if (bus.hi >= 0x200000) {
      code = TestDeviceDmaError.ADDRESS;
    } else if (len > 0) {
      const iova = bus.hi * TWO32 + bus.lo;
      const bytes = this.buffer.subarray(buf.lo, buf.lo + len);
      const result = toRam ? this.ctx.dmaWrite(iova, bytes) : this.ctx.dmaRead(iova, bytes);
      if (result !== 'ok') code = FAULT_CODES[result];
    }
    this.dmaStatus = code === 0 ? TestDeviceDmaStatus.DONE : (TestDeviceDmaStatus.ERROR | (code << TestDeviceDmaStatus.CODE_SHIFT)) >>> 0;
    if ((this.dmaCmd & TestDeviceDmaCmd.IRQ) !== 0) this.raise((this.dmaCmd >>> TestDeviceDmaCmd.VECTOR_SHIFT) & TestDeviceDmaCmd.VECTOR_MASK);
  }
}

function ones(size: number): number | bigint {
  return size === 8 ? 0xffffffffffffffffn : size === 4 ? 0xffffffff : 2 ** (8 * size) - 1;
}
