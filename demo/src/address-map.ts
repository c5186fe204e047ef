// The address map as plain SVG, to scale: one panel per aperture (IO, 32-bit MMIO, 64-bit MMIO,
// and anything kept outside them), bridge windows in the top lanes and BARs below, each a bar from
// its start to its end offset. A panel spans the used part of its aperture (the apertures are
// gigabytes; what firmware hands out is a few MiB at their bottom), rounded up to a power of two.
import type { AddressMapRow } from '../../src/runtime/browser/index.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 960;
const LANE = 22;
const GAP = 4;
const AXIS = 22;
const TITLE = 20;

/** Fill colours by what a bar is; a class too, for the legend. */
const KINDS: { match: (what: string) => boolean; name: string; cls: string }[] = [
  { match: (w) => w.startsWith('bridge'), name: 'bridge window', cls: 'k-window' },
  { match: (w) => w.includes('prefetchable'), name: 'prefetchable memory', cls: 'k-prefetch' },
  { match: (w) => w === 'mem64', name: '64-bit memory', cls: 'k-mem64' },
  { match: (w) => w === 'mem32', name: '32-bit memory', cls: 'k-mem32' },
  { match: (w) => w === 'io', name: 'IO ports', cls: 'k-io' },
  { match: (w) => w === 'ROM', name: 'expansion ROM', cls: 'k-rom' },
];

function kindOf(what: string): string {
  return KINDS.find((k) => k.match(what))?.cls ?? 'k-other';
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

/** Sizes in KiB as people write them: 512 KiB, 1 MiB, 32 B. */
export function formatKiB(kib: number): string {
  if (kib === 0) return '0';
  if (kib < 1) return `${Math.round(kib * 1024)} B`;
  if (kib < 1024) return `${+kib.toFixed(2)} KiB`;
  if (kib < 1024 * 1024) return `${+(kib / 1024).toFixed(2)} MiB`;
  return `${+(kib / 1024 / 1024).toFixed(2)} GiB`;
}

/** Smallest power of two (in KiB, down to 1/64) not below `v`. */
function roundUp(v: number): number {
  let p = 1 / 64;
  while (p < v) p *= 2;
  return p;
}

/** Packs rows into lanes, first fit by start: rows in one lane never overlap. */
function lanes(rows: AddressMapRow[]): AddressMapRow[][] {
  const out: AddressMapRow[][] = [];
  for (const r of [...rows].sort((a, b) => a.start - b.start || b.end - a.end)) {
    const lane = out.find((l) => l[l.length - 1].end <= r.start);
    if (lane) lane.push(r);
    else out.push([r]);
  }
  return out;
}

function drawPanel(root: HTMLElement, title: string, rows: AddressMapRow[]): void {
  const windows = lanes(rows.filter((r) => r.what.startsWith('bridge')));
  const bars = lanes(rows.filter((r) => !r.what.startsWith('bridge')));
  const all = [...windows, ...bars];
  const extent = roundUp(Math.max(...rows.map((r) => r.end)));
  const height = TITLE + all.length * (LANE + GAP) + AXIS;
  const figure = svg('svg', { viewBox: `0 0 ${WIDTH} ${height}`, width: '100%', role: 'img', class: 'map-panel' });
  root.appendChild(figure);
  svg('text', { x: 0, y: 14, class: 'map-title' }, figure).textContent = `${title.replace(/ \((offsets in )?KiB\)$/, '')} — first ${formatKiB(extent)} shown`;
  const x = (kib: number) => (kib / extent) * WIDTH;
  all.forEach((lane, i) => {
    const y = TITLE + i * (LANE + GAP);
    for (const r of lane) {
      const g = svg('g', { class: `map-bar ${kindOf(r.what)}` }, figure);
      // Tiny BARs (32 bytes of IO in a 4 KiB panel) stay visible: at least 2 px wide.
      const w = Math.max(2, x(r.end) - x(r.start));
      svg('rect', { x: x(r.start), y, width: w, height: LANE, rx: 2 }, g);
      svg('title', {}, g).textContent = `${r.label}\n${r.what}, ${formatKiB(r.end - r.start)} at +${formatKiB(r.start)}`;
      const text = r.label.replace(/^0000:/, '');
      // Label inside only when it fits (about 6.5 px a character at this size).
      if (w > text.length * 6.5 + 8) svg('text', { x: x(r.start) + 4, y: y + LANE / 2 + 4, class: 'map-label' }, g).textContent = text;
    }
  });
  const axisY = TITLE + all.length * (LANE + GAP) + 2;
  svg('line', { x1: 0, x2: WIDTH, y1: axisY, y2: axisY, class: 'map-axis' }, figure);
  for (let i = 0; i <= 4; i++) {
    const at = (extent * i) / 4;
    const anchor = i === 0 ? 'start' : i === 4 ? 'end' : 'middle';
    svg('line', { x1: x(at), x2: x(at), y1: axisY, y2: axisY + 4, class: 'map-axis' }, figure);
    svg('text', { x: x(at), y: axisY + 16, 'text-anchor': anchor, class: 'map-tick' }, figure).textContent = `+${formatKiB(at)}`;
  }
}

/** Replaces `root`'s content with one panel per aperture and a legend. */
export function drawAddressMap(root: HTMLElement, rows: AddressMapRow[]): void {
  root.replaceChildren();
  const panels = new Map<string, AddressMapRow[]>();
  for (const r of rows) panels.set(r.panel, [...(panels.get(r.panel) ?? []), r]);
  if (panels.size === 0) {
    root.textContent = 'Nothing allocated: no function has a BAR.';
    return;
  }
  const legend = document.createElement('ul');
  legend.className = 'map-legend';
  for (const k of KINDS) {
    const li = document.createElement('li');
    li.innerHTML = `<span class="swatch ${k.cls}"></span>`;
    li.append(k.name);
    legend.appendChild(li);
  }
  root.appendChild(legend);
  for (const [title, panelRows] of panels) drawPanel(root, title, panelRows);
}
