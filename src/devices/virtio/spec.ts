// The numbers of the virtio 1.2 specification the devices use, named once.

/** virtio 1.2 §2.1: device status bits. */
export const Status = {
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  DEVICE_NEEDS_RESET: 64,
  FAILED: 128,
} as const;

/** virtio 1.2 §6: reserved (device-independent) feature bits, and the ring ones of §2.7. */
export const Feature = {
  RING_INDIRECT_DESC: 28,
  RING_EVENT_IDX: 29,
  VERSION_1: 32,
  ACCESS_PLATFORM: 33,
  RING_PACKED: 34,
} as const;

/** virtio 1.2 §2.7.5: descriptor flags. */
export const DescFlag = { NEXT: 1, WRITE: 2, INDIRECT: 4 } as const;

/** virtio 1.2 §2.7.6: VIRTQ_AVAIL_F_NO_INTERRUPT. */
export const AVAIL_F_NO_INTERRUPT = 1;

/** virtio 1.2 §4.1.5.1.2: "no vector" for config_msix_vector and queue_msix_vector. */
export const NO_VECTOR = 0xffff;

/** virtio 1.2 §4.1.4.5: ISR status bits. */
export const Isr = { QUEUE: 1, CONFIG: 2 } as const;

/** A feature bit as a 64-bit mask. */
export function bit(n: number): bigint {
  return 1n << BigInt(n);
}
