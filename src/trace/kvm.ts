// Linux KVM trace events as ftrace (`trace`, `trace_pipe`), `trace-cmd report` and
// `perf script` print them. Only the event name and its text matter; whatever precedes the
// event name (task-pid, [cpu], flags, timestamp) is skipped.
//
//   kvm_mmio   TP_printk("mmio %s len %u gpa 0x%llx val 0x%llx")      %s: read | write | unsatisfied-read
//   kvm_pio    TP_printk("pio_%s at 0x%x size %d count %d val 0x%x %s")  since Linux 4.1 (trailing "(...)" when count > 1)
//              TP_printk("pio_%s at 0x%x size %d count %d")              before 4.1 (no value)
//
// Reads become reads with `expected` (the value the event recorded); an unsatisfied read (KVM
// exited to user space and the event carries no data) is a read without `expected`.
import { LineReader, type ReaderOptions } from './reader.js';
import { accessProblem, type TraceAccess, type TraceEvent } from './model.js';

const EVENT = /(?:^|\s)(?:kvm:)?(kvm_mmio|kvm_pio):\s+(.*)$/;
const MMIO = /^mmio (read|write|unsatisfied-read) len ([0-9]+) gpa 0x([0-9a-fA-F]+) val 0x([0-9a-fA-F]+)$/;
const PIO = /^pio_(read|write) at 0x([0-9a-fA-F]+) size ([0-9]+) count ([0-9]+)(?: val 0x([0-9a-fA-F]+))?(?: \(\.\.\.\))?$/;

/**
 * Reads Linux KVM trace events (kvm_mmio, kvm_pio) as ftrace, `trace-cmd report` or `perf script`
 * print them; other lines are skipped. Reads carry the value the event recorded as `expected`.
 */
export class KvmTraceReader extends LineReader {
  /** Lines that are not kvm_mmio/kvm_pio events (other events, headers) and were skipped. */
  skippedLines = 0;

  constructor(options: ReaderOptions = {}) {
    super(options);
  }

  protected line(raw: string, line: number, out: TraceEvent[]): void {
    const text = raw.trimEnd();
    if (text.trim() === '' || text.trimStart().startsWith('#')) return;
    const ev = EVENT.exec(text);
    if (!ev) {
      this.skippedLines++;
      return;
    }
    const body = ev[2]!.trim();
    const source = { line };
    if (ev[1] === 'kvm_mmio') {
      const m = MMIO.exec(body);
      if (!m) this.fail(line, 'kvm_mmio', `"${body}" is not "mmio read|write|unsatisfied-read len N gpa 0x.. val 0x.."`);
      const a = { op: m[1] === 'write' ? 'write' : 'read', space: 'mmio', addr: BigInt(`0x${m[3]}`), size: Number(m[2]), source } as TraceAccess;
      const val = BigInt(`0x${m[4]}`);
      if (m[1] === 'write') a.value = val;
      else if (m[1] === 'read') a.expected = val;
      out.push(this.checked(a, line));
      return;
    }
    const m = PIO.exec(body);
    if (!m) this.fail(line, 'kvm_pio', `"${body}" is not "pio_read|pio_write at 0x.. size N count N [val 0x..]"`);
    const write = m[1] === 'write';
    const count = Number(m[4]);
    if (count < 1) this.fail(line, 'count', `${count} is not at least 1`);
    if (write && m[5] === undefined) this.fail(line, 'val', 'a pio_write without a value (a kernel before 4.1 does not trace it)');
    if (write && count > 1) this.fail(line, 'count', `${count}: a string write (rep outs) traces only its first value`);
    // KVM's string I/O moves at most one page per exit (count x size <= 4096): a larger count is
    // not something KVM traced, and it would expand into that many records.
    if (count * Number(m[3]) > 4096) this.fail(line, 'count', `${count} x size ${m[3]} is more than the 4096 bytes KVM moves in one string I/O exit`);
    const a = { op: write ? 'write' : 'read', space: 'io', addr: BigInt(`0x${m[2]}`), size: Number(m[3]), source } as TraceAccess;
    if (m[5] !== undefined) {
      if (write) a.value = BigInt(`0x${m[5]}`);
      else a.expected = BigInt(`0x${m[5]}`);
    }
    out.push(this.checked(a, line));
    // A string read (rep ins) reads the port `count` times; the event has only the first value.
    for (let i = 1; i < count; i++) out.push({ op: 'read', space: 'io', addr: a.addr, size: a.size, source });
  }

  private checked(a: TraceAccess, line: number): TraceAccess {
    const problem = accessProblem(a);
    if (problem) this.fail(line, problem[0], problem[1]);
    return a;
  }
}
