// Snapshots: the whole state of a bus as a versioned, self-describing blob (container.ts: header
// and CRC-32; codec.ts: the body's encoding; bus-snapshot.ts: what a bus puts in and takes back).
export { snapshotBus, restoreBus, topologyFingerprint } from './bus-snapshot.js';
export type { SnapshotOptions } from './bus-snapshot.js';
export { readContainer, writeContainer, SNAPSHOT_VERSION, SNAPSHOT_MAGIC, SNAPSHOT_HEADER_SIZE } from './container.js';
export { encodePlain, decodePlain } from './codec.js';
export type { PlainValue } from './codec.js';
export { StateReader } from './check.js';
export { SnapshotError } from './errors.js';
