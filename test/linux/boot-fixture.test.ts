// The shipped recording of a real boot (data/, made by scripts/linux-guest/record-fixture.js):
// its topology file is v86Topology() as JSON, and `vpci replay --verify` of it reports every read
// verified and no mismatch on both backends, as `npm start` shows.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { v86Topology } from '../../src/runtime/v86/index.js';
import { BINARY_FLAG_MEMORY } from '../../src/trace/index.js';

const TRACE = 'data/v86-linux-boot.vpcitrace';
const TOPOLOGY = 'data/v86-topology.json';

describe('the recorded Linux boot in data/', () => {
  it('has the topology v86Topology() builds', () => {
    expect(JSON.parse(readFileSync(TOPOLOGY, 'utf8'))).toEqual(JSON.parse(JSON.stringify(v86Topology())));
  });

  it('is a vpci binary trace with memory records', () => {
    const bytes = readFileSync(TRACE);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('VPCITRC\0');
    expect(bytes.readUInt16LE(14) & BINARY_FLAG_MEMORY).toBe(BINARY_FLAG_MEMORY);
  });

  it.each(['wasm', 'ts'])('replays with vpci replay --verify on the %s backend: no mismatch', (backend) => {
    const r = spawnSync(process.execPath, ['bin/vpci.js', 'replay', '--verify', '--json', '--ram-mib', '96', '--backend', backend, '--topology', TOPOLOGY, TRACE], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.mismatches).toBe(0);
    expect(summary.records).toBeGreaterThan(3000);
    expect(summary.verified).toBe(summary.reads);
    expect(summary.memory.writes).toBeGreaterThan(0);
    expect(summary.memory.outside).toBe(0);
    expect(summary.modelErrors).toBe(0);
  });
});
