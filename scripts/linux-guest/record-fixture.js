#!/usr/bin/env node
// Boots the stock Linux guest once with recording on and writes the shipped fixture:
// data/v86-linux-boot.vpcitrace (every access vpci served, with the guest RAM its devices read)
// and data/v86-topology.json (v86Topology() as a topology file, for `vpci replay --topology`).
// `npm start` replays the trace; test/linux checks it replays with zero mismatches.
//
//   npm run build && node scripts/linux-guest/setup.js && node scripts/linux-guest/record-fixture.js
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { v86Topology } from 'vpci/v86';
import { bootLinuxGuest } from './boot.js';

const data = resolve(dirname(fileURLToPath(import.meta.url)), '../../data');
const result = await bootLinuxGuest({ record: true });
if (result.recorder.truncated) throw new Error('the recording hit its event limit');
const trace = result.recorder.trace();
writeFileSync(join(data, 'v86-linux-boot.vpcitrace'), trace);
writeFileSync(join(data, 'v86-topology.json'), `${JSON.stringify(v86Topology(), null, 2)}\n`);
console.log(`record-fixture: ${result.recorder.count} events, ${trace.length} bytes, boot ${result.seconds.toFixed(1)} s -> ${data}`);
