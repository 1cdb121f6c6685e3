/**
 * A tiny element builder. It only ever sets text (`textContent`) and attributes, never HTML, so
 * model output and file contents cannot inject markup or script into the panel.
 */
type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  title?: string;
  data?: Record<string, string | number>;
  attrs?: Record<string, string>;
  on?: { [K in keyof HTMLElementEventMap]?: (ev: HTMLElementEventMap[K]) => void };
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, props);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function apply(el: HTMLElement, p: Props): void {
  if (p.class) el.className = p.class;
  if (p.title) el.title = p.title;
  if (p.data) for (const [k, v] of Object.entries(p.data)) el.dataset[k] = String(v);
  if (p.attrs) for (const [k, v] of Object.entries(p.attrs)) el.setAttribute(k, v);
  if (p.on) for (const [k, fn] of Object.entries(p.on)) el.addEventListener(k, fn as EventListener);
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function fmt(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return Math.abs(n) >= 1000 ? n.toFixed(0) : n.toFixed(digits);
}

export function pct(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '–' : `${(n * 100).toFixed(1)}%`;
}

/** Fills `el` with `text`, each case-insensitive occurrence of `needle` in a <mark> (text nodes only). */
export function fillHighlighted(el: Element, text: string, needle: string | undefined): void {
  const n = needle?.trim().toLowerCase() ?? '';
  if (n === '') {
    el.textContent = text;
    return;
  }
  const lower = text.toLowerCase();
  const parts: Node[] = [];
  let from = 0;
  for (let at = lower.indexOf(n); at >= 0; at = lower.indexOf(n, from)) {
    if (at > from) parts.push(document.createTextNode(text.slice(from, at)));
    parts.push(h('mark', {}, text.slice(at, at + n.length)));
    from = at + n.length;
  }
  if (from < text.length) parts.push(document.createTextNode(text.slice(from)));
  el.replaceChildren(...parts);
}
