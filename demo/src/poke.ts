// The poke panel: config reads and writes by BDF or path, MMIO and port IO by address, each result
// appended to a log. A write that moves BARs (a BAR or Command write) logs the moves, and the page
// redraws the tree and the map, since that is what the write changed.
import { formatSize } from '../../src/runtime/browser/index.js';
import type { BarEffect } from '../../src/runtime/browser/index.js';
import type { BusView } from './bus-view.js';
import { byId, el, hex, messageOf } from './dom.js';

type Space = 'config' | 'mmio' | 'io';

/** A number as typed: 0x hex or decimal, as a bigint (MMIO addresses and 8-byte values exceed 2^53). */
function parseNumber(field: string, text: string): bigint {
  const t = text.trim().replace(/_/g, '');
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(t)) throw new Error(`${field}: "${text}" is not a number (write 0x1f or 31)`);
  return BigInt(t);
}

function effectText(e: BarEffect): string {
  const name = `${e.bar === 6 ? 'ROM' : `BAR${e.bar}`} of ${e.bdf} (${e.kind}, ${formatSize(e.size)})`;
  if (e.oldBase === null) return `${name} now decodes at ${hex(e.newBase ?? 0n)}`;
  if (e.newBase === null) return `${name} stopped decoding (was ${hex(e.oldBase)})`;
  return `${name} moved ${hex(e.oldBase)} → ${hex(e.newBase)}`;
}

export class PokePanel {
  private view: BusView | undefined;

  constructor(private readonly onChange: (effects: BarEffect[]) => void) {
    byId('poke-space').addEventListener('change', () => this.showFields());
    byId('poke-region').addEventListener('change', () => this.pickRegion());
    byId('poke-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const submitter = (ev as SubmitEvent).submitter as HTMLButtonElement | null;
      this.run(submitter?.value === 'write');
    });
    byId('poke-clear').addEventListener('click', () => byId('poke-log').replaceChildren());
    this.showFields();
  }

  /** Points the panel at a (new) bus: refreshes the function and region pickers. */
  attach(view: BusView): void {
    this.view = view;
    const functions = byId<HTMLDataListElement>('poke-functions');
    functions.replaceChildren();
    for (const f of view.bus.functions()) {
      const address = view.bus.addressOf(f.path);
      for (const v of new Set([f.path, ...(address ? [address] : [])])) {
        const o = el('option');
        o.value = v;
        o.label = f.name;
        functions.appendChild(o);
      }
    }
    const regions = byId<HTMLSelectElement>('poke-region');
    regions.replaceChildren(el('option', 'pick a mapped region…'));
    for (const r of view.bus.regions()) {
      const o = el('option', `${r.space} ${hex(r.base)} ${r.name} (${formatSize(r.size)})`);
      o.value = `${r.space === 'io' ? 'io' : 'mmio'}:${hex(r.base)}`;
      regions.appendChild(o);
    }
  }

  private get space(): Space {
    return byId<HTMLSelectElement>('poke-space').value as Space;
  }

  /** Config accesses name a function and an offset; MMIO and IO an address. */
  private showFields(): void {
    const config = this.space === 'config';
    for (const e of Array.from(document.querySelectorAll<HTMLElement>('.poke-config'))) e.hidden = !config;
    for (const e of Array.from(document.querySelectorAll<HTMLElement>('.poke-address'))) e.hidden = config;
    // 8-byte accesses exist only for MMIO.
    const eight = byId<HTMLSelectElement>('poke-size').querySelector<HTMLOptionElement>('option[value="8"]')!;
    eight.disabled = this.space !== 'mmio';
    if (eight.disabled && eight.selected) byId<HTMLSelectElement>('poke-size').value = '4';
  }

  private pickRegion(): void {
    const [space, address] = byId<HTMLSelectElement>('poke-region').value.split(':');
    if (address === undefined) return;
    byId<HTMLSelectElement>('poke-space').value = space;
    byId<HTMLInputElement>('poke-address').value = address;
    this.showFields();
  }

  private log(text: string, cls = ''): void {
    const log = byId('poke-log');
    log.appendChild(el('li', text, cls));
    log.scrollTop = log.scrollHeight;
  }

  private run(write: boolean): void {
    const view = this.view;
    if (view === undefined) return;
    const bus = view.bus;
    const size = Number(byId<HTMLSelectElement>('poke-size').value);
    const value = (id: string) => byId<HTMLInputElement>(id).value;
    try {
      const data = write ? parseNumber('value', value('poke-value')) : 0n;
      const width = size * 2;
      let line: string;
      if (this.space === 'config') {
        const target = value('poke-target').trim();
        const offset = Number(parseNumber('offset', value('poke-offset')));
        const where = `config ${target} +${hex(offset, 3)} (${size} B)`;
        if (write) {
          bus.configWrite(target, offset, size, Number(data & 0xffffffffn));
          line = `${where} ← ${hex(data, width)}`;
        } else {
          line = `${where} → ${hex(bus.configRead(target, offset, size), width)}`;
        }
      } else if (this.space === 'mmio') {
        const address = parseNumber('address', value('poke-address'));
        const where = `mmio ${hex(address)} (${size} B)`;
        if (write) {
          bus.mmioWrite(address, size, size === 8 ? data : Number(data & 0xffffffffn));
          line = `${where} ← ${hex(data, width)}`;
        } else {
          line = `${where} → ${hex(bus.mmioRead(address, size), width)}`;
        }
      } else {
        const port = Number(parseNumber('port', value('poke-address')));
        const where = `io ${hex(port, 4)} (${size} B)`;
        if (write) {
          bus.ioWrite(port, size, Number(data & 0xffffffffn));
          line = `${where} ← ${hex(data, width)}`;
        } else {
          line = `${where} → ${hex(bus.ioRead(port, size), width)}`;
        }
      }
      this.log(line, write ? 'write' : 'read');
      const effects = bus.effects();
      for (const e of effects) this.log(`  ${effectText(e)}`, 'effect');
      // Any write may renumber buses (config, ECAM, 0xCFC) or move BARs: redraw after each.
      if (write) this.onChange(effects);
    } catch (err) {
      this.log(messageOf(err), 'error');
    }
  }
}
