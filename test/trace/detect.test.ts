import { describe, expect, it } from 'vitest';
import { createReader, detectFormat, readAll, writeBinaryTrace, writeTextTrace } from '../../src/trace/index.js';

describe('detectFormat', () => {
  const access = { op: 'read', space: 'io', addr: 0xcfcn, size: 4 } as const;
  it.each([
    ['binary', writeBinaryTrace([access]), 'vpci-binary'],
    ['binary, first bytes only', writeBinaryTrace([access]).subarray(0, 4), 'vpci-binary'],
    ['text with header', writeTextTrace([access]), 'vpci-text'],
    ['text without header', 'R io 0xcfc 4\n', 'vpci-text'],
    ['qtest script', 'outl 0xcf8 0x80000000\ninl 0xcfc\n', 'qtest'],
    ['garbage', 'hello world\n', undefined],
    ['binary garbage', new Uint8Array([1, 0, 2, 3]), undefined],
  ] as const)('%s', (_n, input, format) => {
    expect(detectFormat(input)).toBe(format);
  });

  it('createReader reads what detectFormat found', () => {
    const bytes = writeBinaryTrace([access]);
    expect(readAll(createReader(detectFormat(bytes)!), bytes)).toHaveLength(1);
  });
});
