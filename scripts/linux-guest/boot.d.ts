// Types of boot.js, for the TypeScript that imports it (test/linux/).
import type { Bus, Topology } from 'vpci';
import type { V86Attachment, V86Recorder } from 'vpci/v86';

export const guestCache: string;
export const GUEST_CMDLINE: string;
export const GUEST_MEMORY: number;
export const BEGIN: string;
export const END: string;

export interface BootProgress {
  stage: 'firmware' | 'kernel' | 'report';
  seconds: number;
  configAccesses: number;
  mmioAccesses: number;
}

export interface BootOptions {
  backend?: 'wasm' | 'ts';
  record?: boolean;
  timeoutMs?: number;
  onSerial?: (text: string) => void;
  onProgress?: (p: BootProgress) => void;
}

export interface BootResult {
  bus: Bus;
  topology: Topology;
  attachment: V86Attachment;
  recorder: V86Recorder | undefined;
  serial: string;
  firmwareLog: string[];
  seconds: number;
}

export function bootLinuxGuest(options?: BootOptions): Promise<BootResult>;
