// The demo page's entry: the topology editor, the bus it builds (tree, functions, address map),
// the poke panel and the replay panel. Everything runs in the page except replays, which run in a
// Web Worker (replay-worker.ts) so the page stays live.
import { POLICIES, defaultTopology } from '../../src/runtime/browser/index.js';
import type { BackendKind, PolicyName } from '../../src/runtime/browser/index.js';
import { applyEffects, buildView, renderView } from './bus-view.js';
import type { BusView } from './bus-view.js';
import { byId, el, messageOf } from './dom.js';
import type { TopologySource } from './messages.js';
import { PokePanel } from './poke.js';
import { ReplayPanel } from './replay-panel.js';

const DEFAULT_TEXT = JSON.stringify(defaultTopology, null, 2);

const text = byId<HTMLTextAreaElement>('topology-text');
const error = byId('topology-error');
/** Template files picked along with a topology file (a page cannot read the directory a topology names). */
let templates: File[] = [];
let sourceName = 'topology.json';
let view: BusView | undefined;

const poke = new PokePanel((effects) => {
  if (view === undefined) return;
  applyEffects(view, effects);
  renderView(view);
  poke.attach(view);
});
new ReplayPanel(() => view?.source);

function showError(message: string): void {
  error.textContent = message;
  error.hidden = message === '';
  text.setAttribute('aria-invalid', String(message !== ''));
}

/**
 * Builds the bus from the editor and runs the firmware. A bad topology (or one the firmware cannot
 * fit) leaves the bus shown so far in place and says what is wrong under the editor.
 */
async function build(): Promise<void> {
  const source: TopologySource = { text: text.value, name: sourceName, templates };
  const backend = byId<HTMLSelectElement>('topology-backend').value as BackendKind;
  const policy = byId<HTMLSelectElement>('topology-policy').value as PolicyName;
  try {
    view = await buildView(source, { backend, policy });
  } catch (err) {
    showError(messageOf(err));
    return;
  }
  showError('');
  renderView(view);
  poke.attach(view);
}

/** A topology file picked with its templates: the one with "devices" is the topology. */
async function pickFiles(files: File[]): Promise<void> {
  const texts = await Promise.all(files.map((f) => f.text()));
  const at = texts.findIndex((t, i) => files[i].name.endsWith('.json') && /"devices"\s*:/.test(t));
  if (at < 0) {
    showError('topology file: none of the picked files is a topology (a JSON object with "devices")');
    return;
  }
  text.value = texts[at];
  sourceName = files[at].name;
  templates = files.filter((_, i) => i !== at);
  await build();
}

for (const p of POLICIES) {
  const o = el('option', p);
  o.value = p;
  o.selected = p === 'largest-first';
  byId('topology-policy').appendChild(o);
}
text.value = DEFAULT_TEXT;
byId('topology-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void build();
});
byId('topology-reset').addEventListener('click', () => {
  text.value = DEFAULT_TEXT;
  sourceName = 'topology.json';
  templates = [];
  void build();
});
byId<HTMLInputElement>('topology-files').addEventListener('change', (ev) => {
  const files = Array.from((ev.target as HTMLInputElement).files ?? []);
  if (files.length > 0) void pickFiles(files);
});
// data-ready: the first bus is drawn (what a test waits for).
void build().then(() => document.body.setAttribute('data-ready', 'true'));
