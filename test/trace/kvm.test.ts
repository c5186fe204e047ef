import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KvmTraceReader, TraceFormatError, detectFormat, readAll } from '../../src/trace/index.js';
import { bare, readChunks } from './helpers.js';

// Lines as ftrace's trace file, trace-cmd report and perf script print them.
const sample = [
  '# tracer: nop',
  '#',
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
  ' qemu-system-x86-4121    [002] d..1.  8123.100001: kvm_exit: reason IO_INSTRUCTION rip 0xfff0 info 0 0',
  ' qemu-system-x86-4121    [002] d..1.  8123.100002: kvm_pio: pio_write at 0xcf8 size 4 count 1 val 0x80000000 ',
  ' qemu-system-x86-4121    [002] .....  8123.100010: kvm_pio: pio_read at 0xcfc size 4 count 1 val 0x12378086 ',
  ' CPU 0/KVM-4125  [001]  8123.2: kvm_mmio: mmio write len 4 gpa 0xfebf0000 val 0x1',
  ' CPU 0/KVM-4125  [001]  8123.3: kvm_mmio: mmio unsatisfied-read len 2 gpa 0xfebf0004 val 0x0',
  ' CPU 0/KVM-4125  [001]  8123.4: kvm_mmio: mmio read len 8 gpa 0xfebf0008 val 0xdeadbeefcafef00d',
  'qemu-system-x86  4121 [002]  8123.500000: kvm:kvm_pio: pio_read at 0x80 size 1 count 1 val 0xff ',
  'qemu-system-x86  4121 [002]  8123.600000: kvm:kvm_pio: pio_read at 0x1f0 size 2 count 3 val 0xabcd (...)',
  ' qemu-4121 [002] 90.0: kvm_pio: pio_write at 0x70 size 1 count 1',
].join('\n');

describe('KVM trace events', () => {
  it('reads ftrace, trace-cmd and perf script lines, skipping other events', () => {
    const reader = new KvmTraceReader();
    const input = sample.replace(/\n.*pio_write at 0x70.*$/, '\n');
    const out = readAll(reader, input);
    expect(bare(out)).toEqual([
      { op: 'write', space: 'io', addr: 0xcf8n, size: 4, value: 0x80000000n },
      { op: 'read', space: 'io', addr: 0xcfcn, size: 4, expected: 0x12378086n },
      { op: 'write', space: 'mmio', addr: 0xfebf0000n, size: 4, value: 1n },
      { op: 'read', space: 'mmio', addr: 0xfebf0004n, size: 2 },
      { op: 'read', space: 'mmio', addr: 0xfebf0008n, size: 8, expected: 0xdeadbeefcafef00dn },
      { op: 'read', space: 'io', addr: 0x80n, size: 1, expected: 0xffn },
      { op: 'read', space: 'io', addr: 0x1f0n, size: 2, expected: 0xabcdn },
      { op: 'read', space: 'io', addr: 0x1f0n, size: 2 },
      { op: 'read', space: 'io', addr: 0x1f0n, size: 2 },
    ]);
    expect(reader.skippedLines).toBe(1);
    expect(out[0]!.source).toEqual({ line: 5 });
  });

  it('pio_write without a value (kernels before 4.1) is an error naming the line', () => {
    try {
      readAll(new KvmTraceReader({ source: 'perf.txt' }), sample);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TraceFormatError);
      expect((e as TraceFormatError).line).toBe(12);
      expect((e as TraceFormatError).field).toBe('val');
    }
  });

  it.each([
    ['x [000] 1.0: kvm_mmio: mmio read len 3 gpa 0x0 val 0x0', 'size'],
    ['x [000] 1.0: kvm_mmio: mmio write len 1 gpa 0x0 val 0x1ff', 'value'],
    ['x [000] 1.0: kvm_mmio: mmio poke len 1 gpa 0x0 val 0x1', 'kvm_mmio'],
    ['x [000] 1.0: kvm_pio: pio_read at 0x10000 size 1 count 1 val 0x0', 'addr'],
    ['x [000] 1.0: kvm_pio: pio_write at 0x10 size 1 count 2 val 0x0 (...)', 'count'],
    ['x [000] 1.0: kvm_mmio: mmio read len 4 gpa 0x10000000000000000 val 0x0', 'addr'],
  ])('%s -> %s', (line, field) => {
    const reader = new KvmTraceReader({ keepGoing: true });
    expect(readAll(reader, `${line}\n`)).toEqual([]);
    expect(reader.warnings[0]).toMatchObject({ line: 1, field });
  });

  it('chunk boundaries do not matter', () => {
    const bytes = new TextEncoder().encode(sample.replace(/\n.*pio_write at 0x70.*$/, '\n'));
    const whole = readAll(new KvmTraceReader(), bytes);
    fc.assert(fc.property(fc.array(fc.nat(bytes.length)), (cuts) => {
      expect(readChunks(new KvmTraceReader(), bytes, cuts)).toEqual(whole);
    }));
  });

  it('is detected', () => {
    expect(detectFormat(new TextEncoder().encode(sample))).toBe('kvm');
    expect(detectFormat(sample.split('\n').slice(3).join('\n'))).toBe('kvm');
  });
});
