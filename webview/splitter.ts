/**
 * A vertical handle between two columns of a grid: dragging it (or ←/→ while focused) sets the
 * first column's width, kept within bounds, in the container's `--list-width` property.
 */
import { h } from './dom';

export function splitter(container: HTMLElement, width: number | null, onResize: (px: number) => void): HTMLElement {
  const handle = h('div', {
    class: 'splitter',
    attrs: { role: 'separator', 'aria-orientation': 'vertical', 'aria-label': 'Resize the rollout list', tabindex: '0' },
  });
  const set = (px: number): void => {
    const max = Math.max(240, container.clientWidth - 260);
    const w = Math.round(Math.min(max, Math.max(240, px)));
    container.style.setProperty('--list-width', `${w}px`);
    handle.setAttribute('aria-valuenow', String(w));
    onResize(w);
  };
  if (width !== null) container.style.setProperty('--list-width', `${width}px`);
  const first = (): HTMLElement => container.firstElementChild as HTMLElement;
  handle.addEventListener('pointerdown', (ev) => {
    ev.preventDefault();
    handle.setPointerCapture(ev.pointerId);
    const left = first().getBoundingClientRect().left;
    const move = (e: PointerEvent): void => set(e.clientX - left);
    const up = (): void => {
      handle.removeEventListener('pointermove', move);
      handle.removeEventListener('pointerup', up);
    };
    handle.addEventListener('pointermove', move);
    handle.addEventListener('pointerup', up);
  });
  handle.addEventListener('keydown', (ev) => {
    const step = ev.key === 'ArrowLeft' ? -40 : ev.key === 'ArrowRight' ? 40 : 0;
    if (step === 0) return;
    ev.preventDefault();
    set(first().getBoundingClientRect().width + step);
  });
  return handle;
}
