export { DmaService } from './dma-service.js';
export type { DmaResult, DomainKind, RamOptions, MapOptions, SgElement, DmaFaultRecord, DmaStats } from './types.js';
