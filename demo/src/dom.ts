// Small DOM helpers for the page's modules.

/** The element with `id`; a missing one is a bug in index.html, so it throws. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`index.html has no #${id}`);
  return e as T;
}

/** A new element with text content and a class. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text = '', className = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text) e.textContent = text;
  if (className) e.className = className;
  return e;
}

/** The message of anything thrown: vpci's typed errors name the place in theirs. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** 0x-prefixed hex of a number or bigint, zero-padded to `digits`. */
export function hex(v: number | bigint, digits = 0): string {
  return `0x${v.toString(16).padStart(digits, '0')}`;
}
