// 'sriov-endpoint': a PCI Express endpoint that is an SR-IOV Physical Function (PCIe Base 6.0
// §9). Its behaviour follows the SR-IOV capability the guest programs: VF Enable brings NumVFs
// Virtual Functions into being as functions beside the PF, VF Memory Space Enable makes their VF
// BAR apertures decode, and clearing VF Enable removes them again.
//
// Identity: 1b36:00fd, VF Device ID 0x00fc, class 00/ff/00 (unclassified: no guest driver claims
// it), revision 1, subsystem 1af4:1100. Like test-device's 0x00fe these lie in Red Hat's QEMU
// device-id space but are not ids QEMU assigns.
//
// Resources:
//   BAR 0  mem32 16 KiB  registers at 0x0000-0x0fff; with `msix`, the MSI-X table (2 vectors) at
//                        0x2000 and the PBA at 0x3000 (served by the core)
//   PM (for the D0 check below), PCI Express Endpoint, MSI-X optional; no INTx
//   SR-IOV at 0x100: TotalVFs = InitialVFs (default 7), First VF Offset 1, VF Stride 1 (both
//   configurable), VF BARs (default: VF BAR0 mem32 16 KiB, VF BAR2-3 mem64 prefetchable 64 KiB)
//
// BAR 0 registers (32-bit, 4-byte accesses at their offset; anything else in 0x0000-0x0fff reads 0
// and ignores writes):
//   0x00 ID    RO  0x53520100: magic "SR" (bits 31:16), version 1.0
//   0x04 VFS   RO  the number of VFs present now
//
// Where the VFs go. VF k's Routing ID is the PF's + First VF Offset + k × VF Stride (Linux's
// pci_iov_virtfn_devfn). vpci adds VFs on the PF's own bus only; with the PF at function 0 of a
// device, no ARI and the defaults (offset 1, stride 1, TotalVFs at most 7), they are functions 1..7
// of the PF's device. A VF Enable whose VFs would land on another bus, on an occupied address, or
// while the PF has no bus number, creates no VF at all and says why in `sriov.refusal`.
//
// Register semantics the model enforces (the masks are in src/config/sriov-capability.ts):
//   - NumVFs above TotalVFs: the spec leaves it undefined (§9.3.3.7). The write is ignored (NumVFs
//     keeps its value) and `sriov.refusal` says so. The embedder API `bus.sriov(pf).enable(n)`
//     throws ArgumentError 'NumVFs N is above TotalVFs M' instead and changes nothing.
//   - NumVFs written while VF Enable is set: undefined by the spec; ignored likewise.
//   - VF Enable 0→1 creates NumVFs VFs (none for 0); 1→0 removes them (functions and apertures
//     gone, their contexts inert). ARI Capable Hierarchy is stored; offset and stride do not
//     depend on it.
//   - VF k's copy of VF BAR n is at (VF BAR n) + k × size, decoded while VF Enable and VF MSE are
//     set, the PF is in D0 (PMCSR; a function in D3hot decodes no memory, PCI PM 1.2 §5.3) and the
//     VF BAR holds a valid address: non-zero, and for 32-bit ones the aperture's last byte below
//     0xFFFFFFFF, for 64-bit ones below 2^52 (the rules the core applies to BARs, so the all-ones
//     sizing probe never maps one). Like the core's 64-bit BARs, a 64-bit VF BAR moves when its
//     upper dword changes (Linux writes the lower one first) or when VF Enable, VF MSE or the PF's
//     power state change; a lower-dword write alone is staged.
//   - Not modelled: bridges' windows do not gate the apertures (they are regions at fixed
//     addresses, which the core does not route through bridges); System Page Size does not resize
//     VF BARs; VF Migration; VFs on other buses than the PF's.
//
// Function-level reset (DeviceInstance.reset) puts the capability back to its power-on values:
// VF Enable clear (the VFs go), NumVFs 0, System Page Size 4 KiB, VF BARs 0.
import type { CapabilityDescriptor, FunctionDescriptor, SriovCapabilityDescriptor, SriovVfBarDescriptor } from '../../config/index.js';
import { CapId, ExtCapId, SriovCtrl, SriovReg, validateSriovCapability } from '../../config/index.js';
import { ArgumentError, DescriptorError } from '../../errors.js';
import type { DeviceBehaviour, DeviceContext, DeviceInstance, DeviceState, SriovControl, VirtualFunctionHost } from '../model-api.js';
import type { StateReader } from '../../snapshot/check.js';
import type { FunctionSource } from '../registry.js';
import { VfApertureRegisters, virtualFunctionBehaviour, virtualFunctionPlanes } from './virtual-function.js';
import type { VfIdentity } from './virtual-function.js';

/** Options of the 'sriov-endpoint' model. */
export interface SriovEndpointOptions {
  vendorId?: number;
  deviceId?: number;
  /** VF Device ID. Default 0x00fc. */
  vfDeviceId?: number;
  /** TotalVFs (and InitialVFs), 1..7. Default 7. */
  totalVFs?: number;
  /** First VF Offset, 1..255. Default 1. */
  firstVfOffset?: number;
  /** VF Stride, 1..255. Default 1. */
  vfStride?: number;
  /** Per-VF BARs (memory only, at least 4 KiB each). */
  vfBars?: SriovVfBarDescriptor[];
  /** An MSI-X capability (2 vectors, table and PBA in BAR 0). Default false. */
  msix?: boolean;
}

/** BAR 0 register offsets of the PF. */
export const SriovPfReg = {
  ID: 0x00,
  VFS: 0x04,
} as const;

/** The PF's ID register: magic 0x5352 ("SR"), version 1.0. */
export const SRIOV_PF_ID = 0x53520100;

/** Where the SR-IOV capability sits in the PF's config space. */
const SRIOV_OFFSET = 0x100;
const MAX_TOTAL_VFS = 7;
const PF_BAR0_SIZE = 0x4000;

const DEFAULT_VF_BARS: SriovVfBarDescriptor[] = [
  { index: 0, kind: 'mem32', size: 0x4000 },
  { index: 2, kind: 'mem64', size: 0x10000, prefetchable: true },
];

/**
 * A VF BAR aperture is device-served BAR space: it ranks with BAR handlers (priority 20), below
 * the embedder's own regions (100) and above whole BARs (10).
 */
const APERTURE_PRIORITY = 20;

function optionInt(value: unknown, path: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new DescriptorError(path, `${JSON.stringify(value)} is not an integer in ${min}..${max}`);
  }
  return value;
}

/** The PF's descriptor and its SR-IOV capability, options checked (DescriptorError naming the option). */
export function sriovEndpoint(options: SriovEndpointOptions = {}): { descriptor: FunctionDescriptor; capability: SriovCapabilityDescriptor } {
  const totalVFs = optionInt(options.totalVFs, 'options.totalVFs', 1, MAX_TOTAL_VFS, MAX_TOTAL_VFS);
  const firstVfOffset = optionInt(options.firstVfOffset, 'options.firstVfOffset', 1, 255, 1);
  const vfStride = optionInt(options.vfStride, 'options.vfStride', 1, 255, 1);
  // With the PF at function 0, VF routing IDs past devfn 255 would be on the next bus, where
  // vpci does not put VFs: refuse such a layout up front.
  if (firstVfOffset + (totalVFs - 1) * vfStride > 255) {
    throw new DescriptorError('options.vfStride', `First VF Offset ${firstVfOffset} + ${totalVFs - 1} × VF Stride ${vfStride} leaves the PF's bus`);
  }
  if (options.msix !== undefined && typeof options.msix !== 'boolean') throw new DescriptorError('options.msix', 'must be true or false');
  if (options.vfBars !== undefined && !Array.isArray(options.vfBars)) {
    throw new DescriptorError('options.vfBars', 'must be an array of VF BARs ({ index, kind, size, prefetchable })');
  }
  const capability: SriovCapabilityDescriptor = {
    id: 'sriov', offset: SRIOV_OFFSET, totalVFs, firstVfOffset, vfStride,
    vfDeviceId: optionInt(options.vfDeviceId, 'options.vfDeviceId', 0, 0xffff, 0x00fc),
    vfBars: options.vfBars ?? DEFAULT_VF_BARS,
  };
  // Option paths for the capability's own checks (vfBars[0].size and so on).
  validateSriovCapability(capability, 'options');
  const capabilities: CapabilityDescriptor[] = [{ id: 'pm' }, { id: 'pcie', portType: 'endpoint' }];
  if (options.msix === true) capabilities.push({ id: 'msix', tableSize: 2, tableBar: 0, tableOffset: 0x2000, pbaBar: 0, pbaOffset: 0x3000 });
  const descriptor: FunctionDescriptor = {
    vendorId: optionInt(options.vendorId, 'options.vendorId', 0, 0xfffe, 0x1b36),
    deviceId: optionInt(options.deviceId, 'options.deviceId', 0, 0xffff, 0x00fd),
    classCode: 0x00ff00,
    revision: 1,
    subsystemVendorId: 0x1af4,
    subsystemId: 0x1100,
    bars: [{ index: 0, kind: 'mem32', size: PF_BAR0_SIZE }],
    capabilities,
    extendedCapabilities: [capability],
  };
  return { descriptor, capability };
}

/** The model's source for a topology: descriptor and behaviour. */
export function sriovEndpointSource(options: SriovEndpointOptions = {}): FunctionSource {
  const { descriptor, capability } = sriovEndpoint(options);
  const identity: VfIdentity = {
    classCode: descriptor.classCode, revision: descriptor.revision ?? 0,
    subsystemVendorId: descriptor.subsystemVendorId ?? 0, subsystemId: descriptor.subsystemId ?? 0,
  };
  return { descriptor, behaviour: sriovEndpointBehaviour(capability, identity) };
}

/** A running PF as `bus.device(path)` returns it. */
export interface SriovEndpoint extends DeviceInstance {
  readonly sriov: SriovControl;
}

/** The PF's behaviour for a validated capability; VFs repeat `identity`. */
export function sriovEndpointBehaviour(capability: SriovCapabilityDescriptor, identity: VfIdentity): DeviceBehaviour {
  return {
    attach(ctx): SriovEndpoint {
      const pf = new PhysicalFunction(ctx, capability, identity);
      return {
        sriov: pf.control,
        reset: () => pf.reset(),
        detach: () => pf.detach(),
        saveState: () => pf.saveState(),
        loadState: (state) => pf.loadState(state),
      };
    },
  };
}

/** One VF BAR of the capability: its layout, and the address its apertures follow. */
interface VfBarState {
  index: number;
  mem64: boolean;
  size: bigint;
  /** The register dwords as last seen. */
  lo: number;
  hi: number;
  /** The base the apertures use (a 64-bit BAR's lower-dword write alone is staged). */
  applied: bigint;
}

/** A VF present now. */
interface Vf {
  index: number;
  path: string;
  /** One register file per VF BAR, kept while the VF exists. */
  registers: Map<number, VfApertureRegisters>;
}

/** The PF's running state: the VFs and their apertures follow the capability's registers. */
class PhysicalFunction {
  private readonly at: number;
  /** Offset of PMCSR, or -1 without a PM capability (always D0 then). */
  private readonly pmcsr: number;
  private readonly host: VirtualFunctionHost;
  private readonly total: number;
  private readonly bars: VfBarState[];
  /** NumVFs as accepted (a refused write is put back to this). */
  private numVFs = 0;
  /** VF Enable as last acted on. */
  private vfe = false;
  /** VF Enable, VF MSE and D0 as last applied to the apertures. */
  private decodeKey = '';
  private vfs: Vf[] = [];
  /** Apertures mapped now: "k:n" to region id and base. */
  private readonly mapped = new Map<string, { id: number; base: bigint }>();
  private refusal: string | undefined;
  readonly control: SriovControl;

  constructor(private readonly ctx: DeviceContext, private readonly cap: SriovCapabilityDescriptor, private readonly identity: VfIdentity) {
    this.host = ctx.virtualFunctions;
    this.total = cap.totalVFs;
    this.at = findExtendedCapability(ctx, ExtCapId.SRIOV);
    if (this.at < 0) throw new ArgumentError(`${ctx.path}: no SR-IOV capability in config space`);
    const pm = findCapability(ctx, CapId.PM);
    this.pmcsr = pm < 0 ? -1 : pm + 4;
    this.bars = (cap.vfBars ?? []).map((b) => ({ index: b.index, mem64: b.kind === 'mem64', size: BigInt(b.size), lo: 0, hi: 0, applied: 0n }));
    this.numVFs = this.read(SriovReg.NUM_VF, 2);
    for (const b of this.bars) this.readBar(b, true);
    const sync = () => this.sync();
    // Control through VF Stride (NumVFs included), the six VF BARs, and the PF's power state.
    ctx.watchConfig(this.at + SriovReg.CTRL, 16, sync);
    ctx.watchConfig(this.at + SriovReg.BAR, 16, sync);
    ctx.watchConfig(this.at + SriovReg.BAR + 16, 8, sync);
    if (this.pmcsr >= 0) ctx.watchConfig(this.pmcsr, 2, sync);
    ctx.bar(0, {
      read: (offset, size) => {
        if (size !== 4) return 0;
        if (offset === SriovPfReg.ID) return SRIOV_PF_ID;
        if (offset === SriovPfReg.VFS) return this.vfs.length;
        return 0;
      },
      write: () => {},
    }, { offset: 0, length: 0x1000 });
    this.control = this.makeControl();
    this.sync();
  }

  private read(reg: number, size: 1 | 2 | 4): number {
    return this.ctx.configRead(this.at + reg, size) >>> 0;
  }

  /** Reads a VF BAR's dwords; adopts its address unless a 64-bit BAR only had its lower dword written. */
  private readBar(b: VfBarState, reapply: boolean): void {
    const reg = SriovReg.BAR + 4 * b.index;
    const lo = this.read(reg, 4);
    const hi = b.mem64 ? this.read(reg + 4, 4) : 0;
    if (reapply || !b.mem64 || hi !== b.hi) b.applied = (BigInt(hi) << 32n) | BigInt((lo & 0xfffffff0) >>> 0);
    b.lo = lo;
    b.hi = hi;
  }

  private inD0(): boolean {
    return this.pmcsr < 0 || (this.ctx.configRead(this.pmcsr, 2) & 0x3) === 0;
  }

  /** Brings the VFs and apertures in line with the registers (after any change a watch saw). */
  private sync(): void {
    const ctrl = this.read(SriovReg.CTRL, 2);
    const vfe = (ctrl & SriovCtrl.VFE) !== 0;
    const num = this.read(SriovReg.NUM_VF, 2);
    if (num !== this.numVFs) {
      // VF Enable set before and after: the write happened while VFs were enabled. (A batch
      // replay may also have cleared or set VF Enable around it; then it is taken in order.)
      if (this.vfe && vfe) this.putBackNumVFs(`NumVFs ${num} was written while VF Enable is set: ignored, NumVFs stays ${this.numVFs}`);
      else if (num > this.total) this.putBackNumVFs(`NumVFs ${num} is above TotalVFs ${this.total}: ignored, NumVFs stays ${this.numVFs}`);
      else {
        this.numVFs = num;
        this.refusal = undefined;
      }
    }
    if (vfe !== this.vfe) {
      this.vfe = vfe;
      if (vfe) this.createVFs();
      else this.removeVFs();
    }
    const mse = (ctrl & SriovCtrl.MSE) !== 0;
    const d0 = this.inD0();
    // As a Command write re-applies a function's BARs, a change of what enables the apertures
    // re-reads the VF BARs whole (a staged lower dword takes effect).
    const key = `${vfe}:${mse}:${d0}`;
    const reapply = key !== this.decodeKey;
    this.decodeKey = key;
    for (const b of this.bars) this.readBar(b, reapply);
    this.mapApertures(vfe && mse && d0);
  }

  private putBackNumVFs(why: string): void {
    this.refusal = why;
    // The device restoring its register: the watch sees it, and sync finds nothing to do.
    this.ctx.configPoke(this.at + SriovReg.NUM_VF, 2, this.numVFs);
  }

  /** The devfns of VFs 0..n-1 on the PF's bus, or why they cannot be placed. */
  private placement(n: number): number[] | string {
    const rid = this.host.routingId();
    if (rid === undefined) return 'the PF has no bus number yet (no config cycle reaches it), so its VFs have no Routing IDs';
    const bus = rid >> 8;
    const offset = this.cap.firstVfOffset ?? 1;
    const stride = this.cap.vfStride ?? 1;
    const devfns: number[] = [];
    for (let k = 0; k < n; k++) {
      const vf = rid + offset + k * stride;
      if (vf >> 8 !== bus) return `VF ${k}'s Routing ID 0x${vf.toString(16)} is not on the PF's bus ${bus} (vpci adds VFs on the PF's bus only)`;
      devfns.push(vf & 0xff);
    }
    return devfns;
  }

  /** VF Enable 0→1: NumVFs VFs, all or none. */
  private createVFs(): void {
    const devfns = this.placement(this.numVFs);
    if (typeof devfns === 'string') {
      this.refusal = `VF Enable created no VFs: ${devfns}`;
      return;
    }
    const bus = (this.host.routingId() ?? 0) & 0xff00;
    const created: Vf[] = [];
    try {
      devfns.forEach((devfn, k) => {
        const path = this.host.addFunction(devfn, {
          planes: virtualFunctionPlanes(this.identity),
          behaviour: virtualFunctionBehaviour(k, this.ctx.path, () => this.forgetVf(k)),
          name: `${this.ctx.path} VF ${k}`,
          kind: 'sriov-vf',
        });
        const registers = new Map(this.bars.map((b) => [b.index, new VfApertureRegisters(k, b.index, bus | devfn)]));
        created.push({ index: k, path, registers });
      });
    } catch (e) {
      for (const vf of created) this.host.removeFunction(vf.path);
      this.refusal = `VF Enable created no VFs: ${(e as Error).message}`;
      return;
    }
    this.vfs = created;
    this.refusal = undefined;
  }

  /** VF Enable 1→0 (or reset, or the PF removed): apertures and VFs go. */
  private removeVFs(): void {
    this.mapApertures(false);
    const vfs = this.vfs;
    this.vfs = [];
    for (const vf of vfs) this.host.removeFunction(vf.path);
  }

  /**
   * VF `k` was removed by someone else (an unplug of the PF's slot): its apertures go with it.
   * When the PF removes its VFs itself, the list is already empty and this does nothing.
   */
  private forgetVf(k: number): void {
    const vf = this.vfs.find((v) => v.index === k);
    if (vf === undefined) return;
    this.vfs = this.vfs.filter((v) => v !== vf);
    for (const [key, m] of this.mapped) {
      if (!key.startsWith(`${k}:`)) continue;
      this.host.removeRegion(m.id);
      this.mapped.delete(key);
    }
  }

  /** Maps each VF's copy of each VF BAR where it belongs now, or nowhere. */
  private mapApertures(decode: boolean): void {
    const wanted = new Map<string, { base: bigint; vf: Vf; bar: VfBarState }>();
    if (decode) {
      for (const vf of this.vfs) {
        for (const b of this.bars) {
          if (b.applied === 0n) continue;
          const base = b.applied + BigInt(vf.index) * b.size;
          const end = base + b.size;
          if (b.mem64 ? end > 1n << 52n : end - 1n >= 0xffffffffn) continue;
          wanted.set(`${vf.index}:${b.index}`, { base, vf, bar: b });
        }
      }
    }
    for (const [key, m] of this.mapped) {
      if (wanted.get(key)?.base === m.base) continue;
      this.host.removeRegion(m.id);
      this.mapped.delete(key);
    }
    for (const [key, w] of wanted) {
      if (this.mapped.has(key)) continue;
      try {
        const id = this.host.addRegion({
          space: 'mmio', base: Number(w.base), size: Number(w.bar.size), priority: APERTURE_PRIORITY,
          handler: w.vf.registers.get(w.bar.index)!, name: `${w.vf.path} VF BAR${w.bar.index}`,
        });
        this.mapped.set(key, { id, base: w.base });
      } catch (e) {
        // This runs inside the guest's config write, which must not throw: a full region table
        // leaves the aperture unmapped and says so.
        this.refusal = `VF ${w.vf.index} BAR${w.bar.index} aperture at 0x${w.base.toString(16)} not mapped: ${(e as Error).message}`;
      }
    }
  }

  reset(): void {
    // An FLR returns the PF's registers to their defaults, the SR-IOV capability's included; with
    // VF Enable clear the VFs cease to exist (PCIe Base 6.0 §9.3.3.3.1). Each poke is followed by
    // the watch, so the VFs go with the first.
    this.ctx.configPoke(this.at + SriovReg.CTRL, 2, 0);
    this.ctx.configPoke(this.at + SriovReg.NUM_VF, 2, 0);
    this.ctx.configPoke(this.at + SriovReg.SYS_PGSIZE, 4, 1);
    for (const b of this.bars) {
      // A poke bypasses the masks: keep the read-only type bits.
      this.ctx.configPoke(this.at + SriovReg.BAR + 4 * b.index, 4, b.lo & 0xf);
      if (b.mem64) this.ctx.configPoke(this.at + SriovReg.BAR + 4 * b.index + 4, 4, 0);
    }
    this.refusal = undefined;
  }

  /**
   * What the registers alone do not say: the NumVFs and VF Enable last acted on (a snapshot taken
   * after a refused VF Enable has VF Enable set and no VFs), staged 64-bit VF BAR addresses, the
   * refusal. Snapshots are only taken while no VF exists (the bus refuses them once functions
   * came or went), so no VF is in it.
   */
  saveState(): DeviceState {
    return {
      numVFs: this.numVFs,
      vfEnable: this.vfe,
      decode: this.decodeKey,
      refusal: this.refusal ?? '',
      vfBars: this.bars.map((b) => ({ lo: b.lo, hi: b.hi, applied: b.applied })),
    };
  }

  loadState(state: StateReader): void {
    // Everything is checked before anything changes.
    const numVFs = state.get('numVFs').int(0, this.total);
    const vfEnable = state.get('vfEnable').bool();
    const decode = state.get('decode').str();
    const refusal = state.get('refusal').str();
    const bars = state.get('vfBars').items(this.bars.length).map((r) => ({
      lo: r.get('lo').int(0, 0xffffffff), hi: r.get('hi').int(0, 0xffffffff), applied: r.get('applied').big(0n, (1n << 64n) - 1n),
    }));
    this.numVFs = numVFs;
    this.vfe = vfEnable;
    this.decodeKey = decode;
    this.refusal = refusal === '' ? undefined : refusal;
    bars.forEach((b, i) => Object.assign(this.bars[i], b));
    // The bus re-runs every watcher after a restore (ConfigWatch.resync): sync then finds the
    // registers consistent with this state.
  }

  detach(): void {
    // The PF is gone: its VFs cannot outlive it (they are reached through its capability).
    this.removeVFs();
  }

  private makeControl(): SriovControl {
    const pf = this;
    return {
      totalVFs: this.total,
      get numVFs() { return pf.read(SriovReg.NUM_VF, 2); },
      get enabled() { return (pf.read(SriovReg.CTRL, 2) & SriovCtrl.VFE) !== 0; },
      get refusal() { return pf.refusal; },
      vfs: () => this.vfs.map((vf) => vf.path),
      enable: (n) => this.enable(n),
      disable: () => {
        const ctrl = this.read(SriovReg.CTRL, 2);
        this.ctx.configPoke(this.at + SriovReg.CTRL, 2, ctrl & ~(SriovCtrl.VFE | SriovCtrl.MSE));
        this.ctx.configPoke(this.at + SriovReg.NUM_VF, 2, 0);
      },
    };
  }

  /** The embedder's enable: Linux's sriov_enable order (NumVFs, then VF Enable with VF MSE). */
  private enable(n: number): readonly string[] {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
      throw new ArgumentError(`enable: NumVFs ${String(n)} is not a whole number from 1 to TotalVFs ${this.total}`);
    }
    if (n > this.total) throw new ArgumentError(`NumVFs ${n} is above TotalVFs ${this.total}`);
    const ctrl = this.read(SriovReg.CTRL, 2);
    if (ctrl & SriovCtrl.VFE) throw new ArgumentError(`enable: VF Enable is already set (${this.vfs.length} VFs): disable first`);
    const placed = this.placement(n);
    if (typeof placed === 'string') throw new ArgumentError(`enable: ${placed}`);
    const before = { num: this.read(SriovReg.NUM_VF, 2), refusal: this.refusal };
    this.ctx.configPoke(this.at + SriovReg.NUM_VF, 2, n);
    this.ctx.configPoke(this.at + SriovReg.CTRL, 2, ctrl | SriovCtrl.VFE | SriovCtrl.MSE);
    if (this.vfs.length === n) return this.vfs.map((vf) => vf.path);
    // A VF could not be added (an occupied address): put the registers back as they were.
    const why = this.refusal;
    this.ctx.configPoke(this.at + SriovReg.CTRL, 2, ctrl);
    this.ctx.configPoke(this.at + SriovReg.NUM_VF, 2, before.num);
    this.refusal = before.refusal;
    throw new ArgumentError(`enable: ${why ?? 'the VFs could not be created'}`);
  }
}

/** Offset of the first extended capability with `id`, walked defensively; -1 if none. */
function findExtendedCapability(ctx: DeviceContext, id: number): number {
  const seen = new Set<number>();
  let p = 0x100;
  while (p >= 0x100 && p <= 0xffc && !seen.has(p)) {
    seen.add(p);
    const header = ctx.configRead(p, 4) >>> 0;
    if (header === 0 || header === 0xffffffff) return -1;
    if ((header & 0xffff) === id) return p;
    p = (header >>> 20) & 0xffc;
  }
  return -1;
}

/** Offset of the first capability with `id` in the list at 0x34; -1 if none. */
function findCapability(ctx: DeviceContext, id: number): number {
  const seen = new Set<number>();
  let p = ctx.configRead(0x34, 1) & 0xfc;
  while (p >= 0x40 && !seen.has(p)) {
    seen.add(p);
    if (ctx.configRead(p, 1) === id) return p;
    p = ctx.configRead(p + 1, 1) & 0xfc;
  }
  return -1;
}
