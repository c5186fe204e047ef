// A Virtual Function of the 'sriov-endpoint' PF: its own config space, its behaviour (DMA with its
// own Routing ID and Bus Master Enable), and the small register file each of its VF BAR
// apertures serves.
//
// VF config space (PCIe Base 6.0 §9.3.4.1, the VF's Type 0 header):
//   Vendor ID, Device ID   0xFFFF, read-only. The spec has VFs answer so, and QEMU's
//                          pcie_sriov register_vf sets both to 0xffff; software takes the PF's
//                          Vendor ID and the capability's VF Device ID instead (Linux's
//                          pci_iov_add_virtfn never reads the VF's). It also keeps a bus scan
//                          from counting VFs as ordinary functions.
//   Command                only Bus Master Enable is writable: Memory Space is read-only 0 (the
//                          PF's VF MSE gates VF memory), I/O Space 0 (VFs have no I/O BARs),
//                          Interrupt Disable 0 (VFs have no INTx); Parity Error Response and
//                          SERR# Enable are RsvdP (the PF's apply), so read-only here.
//   Status                 Capabilities List; the error bits are write-1-to-clear as on any function.
//   Class, revision,       the PF's (Linux caches them from VF 0 for all VFs, pci_read_vf_config_common).
//   subsystem IDs
//   BARs, Expansion ROM    read-only 0: a VF's memory is its share of the PF's VF BARs.
//   Cache Line Size,       read-only 0: RsvdP/RO for VFs; they steer nothing a VF does.
//   Latency Timer, Interrupt Line/Pin
//   Capabilities           PCI Express (Endpoint), so the space is 4 KiB like the PF's.
//
// VF BAR aperture register file (one per VF per implemented VF BAR, little-endian, any access
// size at any offset; reads past 0x1f return 0, writes outside SCRATCH are ignored):
//   0x00 VF_INDEX   RO 32  k, the VF's number from 0 (Linux's virtfn id)
//   0x04 VF_BAR     RO 32  n, the VF BAR this aperture is
//   0x08 ROUTING_ID RO 32  the VF's Routing ID when it was created (bus << 8 | devfn)
//   0x0c            RO 32  0
//   0x10 SCRATCH    RW 16 bytes, kept while the VF exists (across aperture moves)
import { buildPlanes, Command, Reg } from '../../config/index.js';
import type { ConfigPlanes } from '../../config/index.js';
import type { DmaResult } from '../../dma/index.js';
import type { DeviceModelHandler } from '../../dispatch/types.js';
import type { DeviceBehaviour, DeviceInstance } from '../model-api.js';

/** Offsets in a VF BAR aperture's register file. */
export const SriovVfReg = {
  VF_INDEX: 0x00,
  VF_BAR: 0x04,
  ROUTING_ID: 0x08,
  SCRATCH: 0x10,
} as const;

/** Bytes of the aperture register file (the rest of the aperture reads 0). */
const REGISTER_BYTES = 0x20;
const SCRATCH_BYTES = 0x10;

/** The PF's identity fields a VF repeats. */
export interface VfIdentity {
  classCode: number;
  revision: number;
  subsystemVendorId: number;
  subsystemId: number;
}

/** The config planes of one VF (fresh planes each call: every function owns its own). */
export function virtualFunctionPlanes(id: VfIdentity): ConfigPlanes {
  // buildPlanes refuses Vendor ID 0xFFFF (it means "no function" to a scan); the VF's is set
  // after the build, with the other registers that differ from a PF's.
  const planes = buildPlanes({
    vendorId: 0, deviceId: 0, classCode: id.classCode, revision: id.revision,
    subsystemVendorId: id.subsystemVendorId, subsystemId: id.subsystemId,
    interruptPin: 0,
    capabilities: [{ id: 'pcie', portType: 'endpoint' }],
  });
  planes.ro(Reg.VENDOR_ID, 2, 0xffff).ro(Reg.DEVICE_ID, 2, 0xffff);
  planes.masks(Reg.COMMAND, 2, Command.BUS_MASTER);
  planes.masks(Reg.CACHE_LINE_SIZE, 1, 0).masks(Reg.LATENCY_TIMER, 1, 0).masks(Reg.INTERRUPT_LINE, 1, 0);
  return planes;
}

/** A VF as `bus.device(vfPath)` returns it. */
export interface SriovVf extends DeviceInstance {
  /** The VF's number k, from 0. */
  readonly index: number;
  /** The PF's path. */
  readonly physfn: string;
  /**
   * DMA as the VF's engine does it: with the VF's own Routing ID (its IOMMU domain) and its own
   * Bus Master Enable. 'bus-master-off' once the VF is gone.
   */
  dmaRead(iova: number, into: Uint8Array): DmaResult;
  /** A DMA write on the VF's behalf, as `dmaRead` (nothing moves once the VF is gone). */
  dmaWrite(iova: number, data: Uint8Array): DmaResult;
}

/** The behaviour of VF `index` of the PF at `physfn`; `onDetach` tells the PF the VF was removed. */
export function virtualFunctionBehaviour(index: number, physfn: string, onDetach: () => void): DeviceBehaviour {
  return {
    attach(ctx): SriovVf {
      return {
        index,
        physfn,
        dmaRead: (iova, into) => ctx.dmaRead(iova, into),
        dmaWrite: (iova, data) => ctx.dmaWrite(iova, data),
        detach: onDetach,
      };
    },
  };
}

/** The register file one VF BAR aperture serves (see the map above). */
export class VfApertureRegisters implements DeviceModelHandler {
  private readonly bytes = new Uint8Array(REGISTER_BYTES);

  constructor(readonly index: number, readonly bar: number, readonly routingId: number) {
    const view = new DataView(this.bytes.buffer);
    view.setUint32(SriovVfReg.VF_INDEX, index, true);
    view.setUint32(SriovVfReg.VF_BAR, bar, true);
    view.setUint32(SriovVfReg.ROUTING_ID, routingId, true);
  }

  read(offset: number, size: number): number | bigint {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.byte(offset + i));
    return size === 8 ? v : Number(v);
  }

  write(offset: number, size: number, value: number | bigint): void {
    const v = BigInt(value);
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      if (at >= SriovVfReg.SCRATCH && at < SriovVfReg.SCRATCH + SCRATCH_BYTES) this.bytes[at] = Number((v >> BigInt(8 * i)) & 0xffn);
    }
  }

  private byte(at: number): number {
    return at < REGISTER_BYTES ? this.bytes[at] : 0;
  }
}
