// PCI Express capability (PCI Express Base 6.0 §7.5.3): port type, and a summary of the
// device and link registers.
import { type CapContext, type DecodedCap, TRUNCATED } from './cap-context.js';
import { hex } from './hex.js';
import { flag, flags } from './text.js';

/** Device/port types of the capability's bits 7:4, as lspci names them. */
const PORT_TYPES: Readonly<Record<number, string>> = {
  0x0: 'Endpoint',
  0x1: 'Legacy Endpoint',
  0x4: 'Root Port',
  0x5: 'Upstream Port',
  0x6: 'Downstream Port',
  0x7: 'PCI-Express to PCI/PCI-X Bridge',
  0x8: 'PCI/PCI-X to PCI-Express Bridge',
  0x9: 'Root Complex Integrated Endpoint',
  0xa: 'Root Complex Event Collector',
};

/**
 * Downstream-facing ports: they can sit above a slot (so Slot Implemented means something),
 * and a link slower than their capability is the attached device's doing, not a downgrade.
 */
const DOWNSTREAM_TYPES = new Set([0x4, 0x6, 0x8]);
/** Root-complex-integrated functions have no link, hence no link registers worth showing. */
const NO_LINK_TYPES = new Set([0x9, 0xa]);
/** Endpoints report acceptable L0s/L1 exit latencies in DevCap. */
const ENDPOINT_TYPES = new Set([0x0, 0x1]);

/** L0s/L1 latency encodings; DevCap (acceptable) and LnkCap (exit) use the same tables. */
const L0S_LATENCY = ['<64ns', '<128ns', '<256ns', '<512ns', '<1us', '<2us', '<4us', 'unlimited'];
const L1_LATENCY = ['<1us', '<2us', '<4us', '<8us', '<16us', '<32us', '<64us', 'unlimited'];
const ASPM = ['not supported', 'L0s', 'L1', 'L0s L1'];
/** PCI Express to PCI/PCI-X bridge: the one type with Bridge Configuration Retry Enable. */
const PCIE_TO_PCI_BRIDGE = 0x7;
const LINK_SPEEDS: Readonly<Record<number, string>> = { 1: '2.5GT/s', 2: '5GT/s', 3: '8GT/s', 4: '16GT/s', 5: '32GT/s', 6: '64GT/s' };

/** Bytes of the capability covering DevCap..LnkSta, which is all this decoder reads. */
const DECODED_LENGTH = 0x14;

function speed(code: number): string {
  return LINK_SPEEDS[code] ?? 'unknown';
}

/**
 * `Express (v2) Root Port (Slot+), MSI 00`: capability version, port type, whether a slot is
 * implemented (for port types that can have one) and the interrupt message number. At -vv the
 * device capabilities/control/status and link capabilities/status follow (the first line of
 * each as lspci prints it; DevCtl in full).
 */
export function decodeExpress(ctx: CapContext, off: number): DecodedCap {
  const { r } = ctx;
  const fl = r.u16(off + 2);
  const type = (fl >> 4) & 0xf;
  let name = PORT_TYPES[type] ?? `Unknown type ${type}`;
  if (DOWNSTREAM_TYPES.has(type)) name += ` (Slot${fl & 0x100 ? '+' : '-'})`;
  const version = ctx.verbose >= 2 ? ` (v${fl & 0xf})` : '';
  const header = `Express${version} ${name}, MSI ${hex((fl >> 9) & 0x1f, 2)}`;
  if (!r.has(off, DECODED_LENGTH)) return { header, details: [TRUNCATED] };

  const devCap = r.u32(off + 4);
  const devCtl = r.u16(off + 8);
  const devSta = r.u16(off + 0xa);
  let cap = `DevCap:\tMaxPayload ${128 << (devCap & 7)} bytes, PhantFunc ${(devCap >> 3) & 3}`;
  if (ENDPOINT_TYPES.has(type)) cap += `, Latency L0s ${L0S_LATENCY[(devCap >> 6) & 7]}, L1 ${L1_LATENCY[(devCap >> 9) & 7]}`;
  let ctl2 = flags(devCtl, [['RlxdOrd', 0x10], ['ExtTag', 0x100], ['PhantFunc', 0x200], ['AuxPwr', 0x400], ['NoSnoop', 0x800]]);
  if (type === PCIE_TO_PCI_BRIDGE) ctl2 += ` ${flag('BrConfRtry', devCtl & 0x8000)}`;
  const details = [
    cap,
    `DevCtl:\t${flags(devCtl, [['CorrErr', 0x1], ['NonFatalErr', 0x2], ['FatalErr', 0x4], ['UnsupReq', 0x8]])}`,
    `\t${ctl2}`,
    `\tMaxPayload ${128 << ((devCtl >> 5) & 7)} bytes, MaxReadReq ${128 << ((devCtl >> 12) & 7)} bytes`,
    `DevSta:\t${flags(devSta, [['CorrErr', 0x1], ['NonFatalErr', 0x2], ['FatalErr', 0x4], ['UnsupReq', 0x8], ['AuxPwr', 0x10], ['TransPend', 0x20]])}`,
  ];
  if (!NO_LINK_TYPES.has(type)) {
    const lnkCap = r.u32(off + 0xc);
    const lnkSta = r.u16(off + 0x12);
    const capSpeed = lnkCap & 0xf;
    const capWidth = (lnkCap >> 4) & 0x3f;
    const staSpeed = lnkSta & 0xf;
    const staWidth = (lnkSta >> 4) & 0x3f;
    const checkDowngrade = !DOWNSTREAM_TYPES.has(type);
    const aspm = (lnkCap >> 10) & 3;
    let linkCap = `LnkCap:\tPort #${lnkCap >>> 24}, Speed ${speed(capSpeed)}, Width x${capWidth}, ASPM ${ASPM[aspm]}`;
    if (aspm !== 0) linkCap += `, Exit Latency L0s ${L0S_LATENCY[(lnkCap >> 12) & 7]}, L1 ${L1_LATENCY[(lnkCap >> 15) & 7]}`;
    details.push(linkCap);
    details.push(
      `LnkSta:\tSpeed ${speed(staSpeed)}${checkDowngrade && staSpeed < capSpeed ? ' (downgraded)' : ''}, ` +
        `Width x${staWidth}${checkDowngrade && staWidth < capWidth ? ' (downgraded)' : ''}`,
    );
  }
  return { header, details };
}
