// describeFunctions on hand-built config spaces: BAR sizes, bridge windows, verbosity, and
// the defensive capability walks that lspci itself does not do.
import { describe, expect, it } from 'vitest';
import { type BarSize, type FunctionDump, describeFunctions, formatSize } from '../../src/lspci/index.js';
import { ConfigBuilder } from './helpers/config-builder.js';

const fn = (config: Uint8Array, over: Partial<FunctionDump> = {}): FunctionDump => ({ seg: 0, bus: 0, dev: 3, fn: 0, config, ...over });

/** Body lines of a single function's -vv description. */
function body(config: Uint8Array, barSizes?: BarSize[], verbose: 1 | 2 = 2): string[] {
  const sizes = barSizes === undefined ? undefined : new Map([['0000:00:03.0', barSizes]]);
  const text = describeFunctions([fn(config)], { verbose, barSizes: sizes });
  return text.split('\n').slice(1).filter((l) => l !== '');
}

const capLines = (config: Uint8Array): string[] => body(config).filter((l) => l.startsWith('\tCapabilities:'));

describe('formatSize', () => {
  it.each([
    [32, '32'], [1536, '1536'], [4096, '4K'], [512 * 1024, '512K'], [3 * 2 ** 20, '3M'], [2 ** 30, '1G'],
    [16 * 2 ** 30, '16G'], [2 ** 40, '1T'], [2n ** 63n, '8E'], [2n ** 64n + 1024n, '18014398509481985K'],
  ] as const)('%s -> %s', (size, text) => expect(formatSize(size)).toBe(text));
});

describe('regions', () => {
  const cfg = new ConfigBuilder(256)
    .w16(0x04, 0x0003)
    .w32(0x10, 0xfebf0000) // 32-bit memory
    .w32(0x14, 0x0000c041) // I/O
    .w32(0x18, 0x0000000c).w32(0x1c, 0x00000008) // 64-bit prefetchable at 8_0000_0000
    .w32(0x24, 0x00000000) // unassigned, sized
    .w32(0x30, 0xfeb80000).bytes;
  const sizes: BarSize[] = [
    { index: 0, size: 4096 }, { index: 1, size: 32 }, { index: 2, size: 16 * 2 ** 30 }, { index: 5, size: 1n << 20n }, { index: 6, size: 256 * 1024 },
  ];

  it('show address, type and size; the upper half of a 64-bit BAR gets no line', () => {
    expect(body(cfg, sizes).filter((l) => /Region|ROM/.test(l))).toEqual([
      '\tRegion 0: Memory at febf0000 (32-bit, non-prefetchable) [size=4K]',
      '\tRegion 1: I/O ports at c040 [size=32]',
      '\tRegion 2: Memory at 800000000 (64-bit, prefetchable) [size=16G]',
      '\tRegion 5: Memory at <unassigned> (32-bit, non-prefetchable) [size=1M]',
      '\tExpansion ROM at feb80000 [disabled] [size=256K]',
    ]);
  });

  it('mark decoding turned off by the command register', () => {
    const off = Uint8Array.from(cfg);
    off[0x04] = 0;
    off[0x30] = 0x01; // ROM enable bit set, memory decode off
    expect(body(off, sizes).filter((l) => /Region [01]|ROM/.test(l))).toEqual([
      '\tRegion 0: Memory at febf0000 (32-bit, non-prefetchable) [disabled] [size=4K]',
      '\tRegion 1: I/O ports at c040 [disabled] [size=32]',
      '\tExpansion ROM at feb80000 [disabled by cmd] [size=256K]',
    ]);
  });

  it('skip BARs that read 0 or all ones and have no size', () => {
    const c = new ConfigBuilder(256).w32(0x10, 0xffffffff).w32(0x14, 0).bytes;
    expect(body(c).some((l) => l.includes('Region'))).toBe(false);
    expect(body(c, [{ index: 1, size: 64 }])).toContain('\tRegion 1: Memory at <unassigned> (32-bit, non-prefetchable) [disabled] [size=64]');
  });

  it('use only the sizes of the function they are keyed to', () => {
    const text = describeFunctions([fn(cfg), fn(cfg, { dev: 4 })], { verbose: 2, barSizes: new Map([['0000:00:04.0', sizes]]) });
    expect(text.match(/\[size=4K\]/g)).toHaveLength(1);
    expect(text).toMatch(/00:04\.0[^]*size=4K/);
  });
});

describe('bridges', () => {
  const bridge = new ConfigBuilder(256, 0x1b36, 0x0001, 0x0604).w8(0x0e, 0x01).w16(0x04, 0x0007)
    .w8(0x18, 0x00).w8(0x19, 0x02).w8(0x1a, 0x04).w8(0x1b, 0x20)
    .w8(0x1c, 0xf0).w8(0x1d, 0x00) // I/O window disabled (base > limit)
    .w16(0x20, 0xc060).w16(0x22, 0xc080) // c0600000-c08fffff
    .w16(0x24, 0x8001).w16(0x26, 0x8011).w32(0x28, 0x1).w32(0x2c, 0x1) // 1_8000_0000-1_801f_ffff
    .w16(0x3e, 0x0003);

  it('decode bus numbers and the three windows with sizes', () => {
    expect(body(bridge.bytes).slice(3, 7)).toEqual([
      '\tBus: primary=00, secondary=02, subordinate=04, sec-latency=32',
      '\tI/O behind bridge: f000-0fff [disabled] [16-bit]',
      '\tMemory behind bridge: c0600000-c08fffff [size=3M] [32-bit]',
      '\tPrefetchable memory behind bridge: 0000000180000000-00000001801fffff [size=2M] [64-bit]',
    ]);
    expect(body(bridge.bytes)).toContain('\tBridgeCtl: Parity+ SERR+ NoISA- VGA- VGA16- MAbort- >Reset- FastB2B-');
  });

  it('report window type codes the spec does not define', () => {
    const odd = Uint8Array.from(bridge.bytes);
    odd[0x1c] = 0x12;
    odd[0x20] = 0x61;
    expect(body(odd)).toContain('\t!!! Unknown I/O range types 12/0');
    expect(body(odd)).toContain('\t!!! Unknown memory range types c061/c080');
  });
});

describe('titles and verbosity', () => {
  it('title carries class code, IDs, revision and prog-if; domain appears when any segment is non-zero', () => {
    const ide = new ConfigBuilder(64, 0x8086, 0x7010, 0x0101).w8(0x09, 0x80).w8(0x08, 0x02).bytes;
    expect(describeFunctions([fn(ide)], { verbose: 1 }).split('\n')[0]).toBe(
      '00:03.0 IDE interface [0101]: Device [8086:7010] (rev 02) (prog-if 80 [ISA Compatibility mode-only controller, supports bus mastering])',
    );
    const text = describeFunctions([fn(ide), fn(ide, { seg: 2, bus: 0x40 })], { verbose: 1 });
    expect(text.match(/^[0-9a-f]\S*(?= )/gm)).toEqual(['0000:00:03.0', '0002:40:03.0']);
  });

  it('verbose 1 summarises, verbose 2 details', () => {
    const c = new ConfigBuilder(4096).w16(0x04, 0x0006).w8(0x0d, 0x40).w8(0x3c, 11).w8(0x3d, 1);
    c.cap(0x40, 0x10).w16(0x42, 0x0002).ext(0x100, 0x01, 2, 0);
    const v1 = body(c.bytes, undefined, 1);
    const v2 = body(c.bytes, undefined, 2);
    expect(v1).toEqual([
      '\tFlags: bus master, fast devsel, latency 64, IRQ 11',
      '\tCapabilities: [40] Express Endpoint, MSI 00',
      '\tCapabilities: [100] Advanced Error Reporting',
    ]);
    expect(v2.slice(0, 4)).toEqual([
      '\tControl: I/O- Mem+ BusMaster+ SpecCycle- MemWINV- VGASnoop- ParErr- Stepping- SERR- FastB2B- DisINTx-',
      '\tStatus: Cap+ 66MHz- UDF- FastB2B- ParErr- DEVSEL=fast >TAbort- <TAbort- <MAbort- >SERR- <PERR- INTx-',
      '\tLatency: 64',
      '\tInterrupt: pin A routed to IRQ 11',
    ]);
    expect(v2).toContain('\tCapabilities: [40] Express (v2) Endpoint, MSI 00');
    expect(v2).toContain('\tCapabilities: [100 v2] Advanced Error Reporting');
    expect(v2).toContain('\t\tUESta:\tDLP- SDES- TLP- FCP- CmpltTO- CmpltAbrt- UnxCmplt- RxOF- MalfTLP- ECRC- UnsupReq- ACSViol-');
  });

  it('flags header types the decoder cannot interpret and classes that contradict the header', () => {
    expect(body(new ConfigBuilder(256).w8(0x0e, 0x05).bytes)).toEqual(['\t!!! Unknown header type 05']);
    expect(body(new ConfigBuilder(256, 1, 2, 0x0604).bytes)[0]).toBe('\t!!! Invalid class 0604 for header type 00');
  });
});

describe('capability walks', () => {
  it('stop at a loop', () => {
    const c = new ConfigBuilder(256);
    c.cap(0x40, 0x05).cap(0x50, 0x01, 0x40).w8(0x51, 0x40);
    expect(capLines(c.bytes)).toEqual([
      '\tCapabilities: [40] MSI: Enable- Count=1/1 Maskable- 64bit-',
      '\tCapabilities: [50] Power Management version 0',
      '\tCapabilities: [40] <chain looped>',
    ]);
  });

  it('refuse pointers into the standard header', () => {
    const c = new ConfigBuilder(256);
    c.cap(0x40, 0x05).w8(0x41, 0x10);
    expect(capLines(c.bytes).at(-1)).toBe('\tCapabilities: [10] <chain broken: pointer into the standard header>');
  });

  it('report capabilities beyond a 64-byte dump instead of reading zeros', () => {
    const c = new ConfigBuilder(64).w16(0x06, 0x0010).w8(0x34, 0x40);
    expect(capLines(c.bytes)).toEqual(['\tCapabilities: [40] <not in dump: only 64 bytes captured>']);
  });

  it('stop at an all-ones capability ID, ignore reserved pointer bits and honour the Cap status bit', () => {
    const c = new ConfigBuilder(256);
    c.cap(0x40, 0x05).w8(0x41, 0x53).w8(0x50, 0xff);
    expect(capLines(c.bytes).at(-1)).toBe('\tCapabilities: [50] <chain broken>');
    const noCap = Uint8Array.from(c.bytes);
    noCap[0x06] = 0;
    expect(capLines(noCap)).toEqual([]);
  });

  it('mark a capability whose body runs past the dump', () => {
    const c = new ConfigBuilder(256);
    c.cap(0xf8, 0x11).w16(0xfa, 0x8003);
    expect(body(c.bytes).slice(-2)).toEqual([
      '\tCapabilities: [f8] MSI-X: Enable+ Count=4 Masked-',
      '\t\t<truncated: capability runs past the end of the dump>',
    ]);
  });

  it('walk the extended list only for PCIe functions with 4096 bytes', () => {
    const pcie = new ConfigBuilder(4096);
    pcie.cap(0x40, 0x10).w16(0x42, 0x0002).ext(0x100, 0x10, 1, 0x140).ext(0x140, 0x03, 1, 0).w32(0x144, 0x89abcdef).w32(0x148, 0x01234567);
    expect(capLines(pcie.bytes).slice(1)).toEqual([
      '\tCapabilities: [100 v1] Single Root I/O Virtualization (SR-IOV)',
      '\tCapabilities: [140 v1] Device Serial Number 01-23-45-67-89-ab-cd-ef',
    ]);
    const conventional = Uint8Array.from(pcie.bytes);
    conventional[0x40] = 0x01; // PM instead of PCIe
    expect(capLines(conventional)).toHaveLength(1);
    expect(capLines(pcie.bytes.slice(0, 256))).toHaveLength(1);
  });

  it('stop the extended list at loops, backward pointers and all-ones headers', () => {
    const base = (): ConfigBuilder => {
      const c = new ConfigBuilder(4096);
      c.cap(0x40, 0x10).w16(0x42, 0x0002);
      return c;
    };
    expect(capLines(base().ext(0x100, 0x01, 1, 0x200).ext(0x200, 0x18, 1, 0x100).bytes).slice(1)).toEqual([
      '\tCapabilities: [100 v1] Advanced Error Reporting',
      '\tCapabilities: [200 v1] Latency Tolerance Reporting',
      '\tCapabilities: [100 v1] <chain looped>',
    ]);
    expect(capLines(base().ext(0x100, 0x01, 1, 0x80).bytes).at(-1)).toBe('\tCapabilities: [100] <chain broken: next pointer 080 below 0x100>');
    expect(capLines(base().ext(0x100, 0x01, 1, 0x200).w32(0x200, 0xffffffff).bytes).at(-1)).toBe('\tCapabilities: [200] <chain broken>');
    expect(capLines(base().w32(0x100, 0xffffffff).bytes)).toHaveLength(1);
    expect(capLines(base().ext(0x100, 0x77, 1, 0).bytes).at(-1)).toBe('\tCapabilities: [100 v1] Extended Capability ID 0x77');
  });
});
