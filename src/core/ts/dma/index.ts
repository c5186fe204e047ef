// The DMA translator's TypeScript twin and the helpers both cores' bindings share.
export { DmaTranslator, type DmaCore } from './translator.js';
export { runSegments, readSegments, readFaults, type Segment, type DmaFault } from './external.js';
export {
  DmaStatus, FAULT_STATUS, Reason, DIR_READ, DIR_WRITE, PERM_READ, PERM_WRITE, DomainType, Counter,
  MAX_DOMAINS, MAX_RAM, MAX_INTERNAL_RAM, GPA_LIMIT, IOVA_LIMIT, BUFFER_SIZE, MAX_SG, SG_BYTES,
  MAX_SEGMENTS, SEGMENT_BYTES, SEGMENT_INTERNAL, FAULT_CAPACITY, FAULT_BYTES, IOTLB_ENTRIES,
} from './layout.js';
