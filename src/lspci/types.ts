/**
 * One PCI function's configuration space as captured from a machine or a dump.
 *
 * `config` holds 64, 256 or 4096 bytes (128 only for a CardBus bridge read back from
 * `lspci -x`, which prints its longer standard header).
 */
export interface FunctionDump {
  seg: number;
  bus: number;
  dev: number;
  fn: number;
  config: Uint8Array;
}

/** Size of one decoded BAR; `index` 0-5 is a BAR, 6 the expansion ROM. */
export interface BarSize {
  index: number;
  size: number | bigint;
}
