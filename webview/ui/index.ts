/**
 * The only module that knows the UI toolkit. The panel builds its controls through these
 * functions, so moving to another toolkit (or back to plain elements) is a change to this file.
 * Toolkit: @vscode-elements/elements, the successor of the deprecated @vscode/webview-ui-toolkit;
 * its components read VS Code's theme variables, so controls look native in every theme.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';

export interface Control<T> {
  element: HTMLElement;
  get value(): T;
  set value(v: T);
}

/** A control whose value is the element's own property `key`, read and written through. */
function control<E extends HTMLElement, K extends keyof E>(element: E, key: K): Control<E[K]> {
  return {
    element,
    get value() {
      return element[key];
    },
    set value(v: E[K]) {
      element[key] = v;
    },
  };
}

export function button(label: string, onClick: () => void, opts: { secondary?: boolean; title?: string; id?: string } = {}): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  if (opts.secondary) b.secondary = true;
  if (opts.title) b.title = opts.title;
  if (opts.id) b.id = opts.id;
  b.addEventListener('click', onClick);
  return b;
}

/** Enables or disables a control made here (a disabled toolkit button takes no clicks and is announced as such). */
export function setDisabled(el: HTMLElement, disabled: boolean): void {
  (el as HTMLElement & { disabled: boolean }).disabled = disabled;
}

export function textField(opts: {
  placeholder?: string;
  value?: string;
  type?: 'text' | 'number';
  id?: string;
  label?: string;
  onInput: (v: string) => void;
}): Control<string> {
  const t = document.createElement('vscode-textfield');
  if (opts.placeholder) t.placeholder = opts.placeholder;
  if (opts.type) t.type = opts.type;
  if (opts.id) t.id = opts.id;
  if (opts.label) t.setAttribute('aria-label', opts.label);
  t.value = opts.value ?? '';
  t.addEventListener('input', () => opts.onInput(t.value));
  return control(t, 'value');
}

export function textArea(opts: { placeholder?: string; value?: string; id?: string; rows?: number }): Control<string> {
  const t = document.createElement('vscode-textarea');
  if (opts.placeholder) t.placeholder = opts.placeholder;
  if (opts.id) t.id = opts.id;
  t.rows = opts.rows ?? 3;
  t.value = opts.value ?? '';
  return control(t, 'value');
}

export function select(
  options: { value: string; label: string }[],
  value: string,
  onChange: (v: string) => void,
  opts: { id?: string; label?: string } = {},
): Control<string> {
  const s = document.createElement('vscode-single-select');
  if (opts.id) s.id = opts.id;
  if (opts.label) s.setAttribute('aria-label', opts.label);
  for (const o of options) {
    const opt = document.createElement('vscode-option');
    opt.value = o.value;
    opt.textContent = o.label;
    if (o.value === value) opt.selected = true;
    s.append(opt);
  }
  s.addEventListener('change', () => onChange(s.value));
  return control(s, 'value');
}

export function checkbox(
  label: string,
  checked: boolean,
  onChange: (checked: boolean) => void,
  opts: { id?: string; value?: string } = {},
): Control<boolean> {
  const c = document.createElement('vscode-checkbox');
  c.label = label;
  c.checked = checked;
  if (opts.id) c.id = opts.id;
  if (opts.value) c.value = opts.value;
  c.addEventListener('change', () => onChange(c.checked));
  return control(c, 'checked');
}

export function badge(text: string, variant: 'default' | 'counter' = 'default'): HTMLElement {
  const b = document.createElement('vscode-badge');
  if (variant === 'counter') b.variant = 'counter';
  b.textContent = text;
  return b;
}

export interface Tabs {
  element: HTMLElement;
  select(index: number): void;
}

/** Tab strip with one panel per tab; keyboard navigation comes with the component. */
export function tabs(
  items: { id: string; label: string; panel: HTMLElement }[],
  selected: number,
  onSelect: (index: number) => void,
): Tabs {
  const t = document.createElement('vscode-tabs');
  t.panel = true;
  for (const it of items) {
    const header = document.createElement('vscode-tab-header');
    header.slot = 'header';
    header.dataset.tab = it.id;
    header.textContent = it.label;
    const panel = document.createElement('vscode-tab-panel');
    panel.append(it.panel);
    t.append(header, panel);
  }
  t.selectedIndex = selected;
  t.addEventListener('vsc-tabs-select', (ev) => onSelect(ev.detail.selectedIndex));
  return {
    element: t,
    select(index: number) {
      t.selectedIndex = index;
    },
  };
}
