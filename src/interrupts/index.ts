// Interrupts: the Bus's interrupt service, sinks, INTx routing tables and x86 MSI decoding.
export { InterruptService } from './service.js';
export type { InterruptSink, InterruptEvent, SignalResult } from './types.js';
export { RecordingSink } from './recording-sink.js';
export type { RecordedEvent } from './recording-sink.js';
export { decodeX86Msi, encodeX86Msi } from './x86-msi.js';
export type { X86Msi, X86DeliveryMode } from './x86-msi.js';
export { piixGsi, piixRoutes, PIIX_PIRQ_GSIS, MAX_GSI } from './routing.js';
export type { IntxRoute } from './routing.js';
