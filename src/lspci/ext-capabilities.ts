// PCIe extended capabilities (PCI Express Base 6.0 §7.6-7.9; IDs from PCI Code and Assignment
// 1.15 §3): names for all IDs lspci knows, details for the ones an emulator typically offers.
import { type CapContext, type DecodedCap, TRUNCATED, headerOnly } from './cap-context.js';
import { hex } from './hex.js';
import { flags } from './text.js';

/** Extended capabilities known by name only; `<?>` marks an undecoded body, as in lspci. */
const EXT_NAMES: Readonly<Record<number, string>> = {
  0x00: 'Null',
  0x02: 'Virtual Channel',
  0x04: 'Power Budgeting <?>',
  0x05: 'Root Complex Link',
  0x06: 'Root Complex Internal Link <?>',
  0x07: 'Root Complex Event Collector Endpoint Association',
  0x08: 'Multi-Function Virtual Channel <?>',
  0x09: 'Virtual Channel',
  0x0a: 'Root Complex Register Block <?>',
  0x0d: 'Access Control Services',
  0x0f: 'Address Translation Service (ATS)',
  0x11: 'Multi-Root I/O Virtualization <?>',
  0x12: 'Multicast',
  0x13: 'Page Request Interface (PRI)',
  0x15: 'Physical Resizable BAR',
  0x16: 'Dynamic Power Allocation <?>',
  0x17: 'Transaction Processing Hints',
  0x18: 'Latency Tolerance Reporting',
  0x19: 'Secondary PCI Express',
  0x1a: 'Protocol Multiplexing <?>',
  0x1b: 'Process Address Space ID (PASID)',
  0x1c: 'LN Requester <?>',
  0x1d: 'Downstream Port Containment',
  0x1e: 'L1 PM Substates',
  0x1f: 'Precision Time Measurement',
  0x20: 'PCI Express over M_PHY <?>',
  0x21: 'FRS Queueing <?>',
  0x22: 'Readiness Time Reporting <?>',
  0x24: 'Virtual Resizable BAR',
  0x25: 'Data Link Feature <?>',
  0x26: 'Physical Layer 16.0 GT/s <?>',
  0x27: 'Lane Margining at the Receiver <?>',
  0x28: 'Hierarchy ID <?>',
  0x29: 'Native PCIe Enclosure Management <?>',
  0x2e: 'Data Object Exchange',
};

const UNCORRECTABLE: readonly (readonly [string, number])[] = [
  ['DLP', 0x10], ['SDES', 0x20], ['TLP', 0x1000], ['FCP', 0x2000], ['CmpltTO', 0x4000],
  ['CmpltAbrt', 0x8000], ['UnxCmplt', 0x10000], ['RxOF', 0x20000], ['MalfTLP', 0x40000],
  ['ECRC', 0x80000], ['UnsupReq', 0x100000], ['ACSViol', 0x200000],
];
const CORRECTABLE: readonly (readonly [string, number])[] = [
  ['RxErr', 0x1], ['BadTLP', 0x40], ['BadDLLP', 0x80], ['Rollover', 0x100], ['Timeout', 0x1000], ['AdvNonFatalErr', 0x2000],
];

/** Advanced Error Reporting: status, mask and severity of both error classes. */
function decodeAer(ctx: CapContext, off: number): DecodedCap {
  const { r } = ctx;
  const header = 'Advanced Error Reporting';
  if (!r.has(off, 0x18)) return { header, details: [TRUNCATED] };
  return {
    header,
    details: [
      `UESta:\t${flags(r.u32(off + 0x4), UNCORRECTABLE)}`,
      `UEMsk:\t${flags(r.u32(off + 0x8), UNCORRECTABLE)}`,
      `UESvrt:\t${flags(r.u32(off + 0xc), UNCORRECTABLE)}`,
      `CESta:\t${flags(r.u32(off + 0x10), CORRECTABLE)}`,
      `CEMsk:\t${flags(r.u32(off + 0x14), CORRECTABLE)}`,
    ],
  };
}

/** `Device Serial Number 00-11-22-...`: the 64-bit serial, most significant byte first. */
function decodeSerialNumber(ctx: CapContext, off: number): DecodedCap {
  const serial = hex(ctx.r.u64(off + 4), 16);
  return headerOnly(`Device Serial Number ${serial.match(/../g)?.join('-') ?? serial}`);
}

/** SR-IOV: enable bits, VF counts, routing-ID layout and VF device ID. */
function decodeSriov(ctx: CapContext, off: number): DecodedCap {
  const { r } = ctx;
  const header = 'Single Root I/O Virtualization (SR-IOV)';
  if (!r.has(off, 0x1c)) return { header, details: [TRUNCATED] };
  return {
    header,
    details: [
      `IOVCtl:\t${flags(r.u16(off + 0x8), [['Enable', 0x1], ['Migration', 0x2], ['Interrupt', 0x4], ['MSE', 0x8], ['ARIHierarchy', 0x10], ['10BitTagReq', 0x20]])}`,
      `Initial VFs: ${r.u16(off + 0xc)}, Total VFs: ${r.u16(off + 0xe)}, Number of VFs: ${r.u16(off + 0x10)}, ` +
        `Function Dependency Link: ${hex(r.u8(off + 0x12), 2)}`,
      `VF offset: ${r.u16(off + 0x14)}, stride: ${r.u16(off + 0x16)}, Device ID: ${hex(r.u16(off + 0x1a), 4)}`,
    ],
  };
}

/** ARI: MFVC/ACS function-group support and the next function number in the chain. */
function decodeAri(ctx: CapContext, off: number): DecodedCap {
  const { r } = ctx;
  const cap = r.u16(off + 4);
  const ctl = r.u16(off + 6);
  return {
    header: 'Alternative Routing-ID Interpretation (ARI)',
    details: [
      `ARICap:\t${flags(cap, [['MFVC', 1], ['ACS', 2]])}, Next Function: ${cap >> 8}`,
      `ARICtl:\t${flags(ctl, [['MFVC', 1], ['ACS', 2]])}, Function Group: ${(ctl >> 4) & 7}`,
    ],
  };
}

/** Vendor-specific extended capability: vendor-defined ID, revision and length. */
function decodeVendorExt(ctx: CapContext, off: number): DecodedCap {
  const h = ctx.r.u32(off + 4);
  return headerOnly(`Vendor Specific Information: ID=${hex(h & 0xffff, 4)} Rev=${(h >>> 16) & 0xf} Len=${hex(h >>> 20, 3)} <?>`);
}

/** Designated vendor-specific (DVSEC): the owning vendor, its ID, revision and length. */
function decodeDvsec(ctx: CapContext, off: number): DecodedCap {
  const h = ctx.r.u32(off + 4);
  return headerOnly(
    `Designated Vendor-Specific: Vendor=${hex(h & 0xffff, 4)} ID=${hex(ctx.r.u16(off + 8), 4)} ` +
      `Rev=${(h >>> 16) & 0xf} Len=${h >>> 20} <?>`,
  );
}

type Decoder = (ctx: CapContext, off: number) => DecodedCap;

const EXT_DECODERS: Readonly<Record<number, Decoder>> = {
  0x01: decodeAer,
  0x03: decodeSerialNumber,
  0x0b: decodeVendorExt,
  0x0e: decodeAri,
  0x10: decodeSriov,
  0x23: decodeDvsec,
};

/** Decode the extended capability with ID `id` at `off`. */
export function decodeExtendedCapability(ctx: CapContext, off: number, id: number): DecodedCap {
  const decoder = EXT_DECODERS[id];
  if (decoder !== undefined) return decoder(ctx, off);
  return headerOnly(EXT_NAMES[id] ?? `Extended Capability ID 0x${id.toString(16)}`);
}
