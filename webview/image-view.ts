/**
 * The image with its box layers: predicted boxes (from the output), ground-truth evidence, zoom
 * tool regions and the annotator's corrected boxes. Zoom with the wheel or +/−/0, pan by dragging.
 * The extension serves a thumbnail first, so an 8K image opens at once; zoomed past it, tiles of
 * the visible part are drawn on top (tile-layer.ts). Boxes are SVG in original-image pixels;
 * labels are text nodes.
 */
import type { Box, ImageSize } from '../src/core/types';
import { h, svg } from './dom';
import {
  bestMatch,
  boxFromPoints,
  fitView,
  handlePoint,
  HANDLES,
  moveBox,
  resizeBox,
  toImage,
  zoomAt,
  type Handle,
  type View,
} from './geometry';
import type { PanelReply } from '../src/core/protocol/webview';
import type { Host, PendingRequest } from './host';
import { layoutLabels } from './label-layout';
import { TileLayer } from './tile-layer';
import * as ui from './ui/index';

export interface Layers {
  predicted: boolean;
  evidence: boolean;
  corrected: boolean;
}

export interface ImageContent {
  path?: string;
  size?: ImageSize;
  predicted: Box[];
  evidence: Box[];
  evidenceLabels?: string[];
  tools: Box[];
  corrected: Box[];
}

const FIRST_SIDE = 1280;
/** Label font size on screen, CSS px, whatever the zoom. */
const LABEL_PX = 12;
/** Most one wheel event zooms: a notch is a moderate step, however large its delta. */
const MAX_WHEEL_FACTOR = 1.2;
/** On-screen side of a resize handle, CSS px, whatever the zoom. */
const HANDLE_PX = 9;
type Kind = 'p' | 'e' | 't' | 'c';
const KIND_LABEL: Record<Kind, string> = { p: 'predicted', e: 'evidence', t: 'zoom', c: 'corrected' };

export class ImageView {
  readonly element: HTMLElement;
  /** Called with a box key like "p0" (predicted #0) or null when the pointer leaves a box. */
  onHover: (key: string | null) => void = () => {};
  onCorrectedChange: (boxes: Box[]) => void = () => {};
  private readonly viewport: HTMLElement;
  private readonly stage: HTMLElement;
  private readonly img: HTMLImageElement;
  private readonly overlay: SVGSVGElement;
  private readonly tooltip: HTMLElement;
  private readonly insets: HTMLElement;
  private readonly status: HTMLElement;
  private content: ImageContent = { predicted: [], evidence: [], tools: [], corrected: [] };
  private size: ImageSize | null = null;
  private view: View = { scale: 1, tx: 0, ty: 0 };
  /** The thumbnail's size, once it arrived. */
  private served: ImageSize | null = null;
  private readonly tiles: TileLayer;
  /** Whether the current image has been fitted to the viewport once (later loads keep the user's zoom). */
  private fitted = false;
  /** The image asked for last, and the zoom crops of the shown sample: earlier answers are dropped. */
  private imageRequest: PendingRequest<PanelReply<'getImage'>> | null = null;
  private insetRequests: PendingRequest<unknown>[] = [];
  private drawMode = false;
  private highlighted: string | null = null;
  private selectedCorrected = -1;
  private drag: {
    mode: 'pan' | 'draw' | 'move' | 'resize';
    start: [number, number];
    view: View;
    box?: Box;
    index?: number;
    handle?: Handle;
  } | null = null;
  private readonly handles: SVGGElement;

  constructor(
    private readonly host: Host,
    private layers: Layers,
    private readonly onLayers: (l: Layers) => void,
  ) {
    this.img = h('img', { attrs: { alt: '', draggable: 'false' } });
    this.overlay = svg('svg', { class: 'overlay' });
    this.handles = svg('g', { class: 'handles' });
    this.tiles = new TileLayer(host);
    this.tiles.onChange = () => this.showStatus();
    this.stage = h('div', { class: 'stage' }, this.img, this.tiles.element, this.overlay);
    this.tooltip = h('div', { class: 'tooltip', attrs: { role: 'status' } });
    this.tooltip.hidden = true;
    this.status = h('span', { class: 'muted img-status' });
    this.viewport = h(
      'div',
      { class: 'viewport', attrs: { tabindex: '0', 'aria-label': 'Image; wheel or +/- to zoom, drag to pan, 0 to fit' } },
      this.stage,
      this.tooltip,
    );
    this.insets = h('div', { class: 'insets' });
    const toggles = (['predicted', 'evidence', 'corrected'] as const).map((k) => {
      const c = ui.checkbox(
        k,
        this.layers[k],
        (on) => {
          this.layers = { ...this.layers, [k]: on };
          this.onLayers(this.layers);
          this.drawBoxes();
        },
        { id: `layer-${k}` },
      );
      return h('span', { class: `legend ${k}` }, h('i', { class: 'swatch' }), c.element);
    });
    const toolbar = h(
      'div',
      { class: 'img-toolbar' },
      ...toggles,
      h('span', { class: 'legend zoom' }, h('i', { class: 'swatch' }), 'zoom region'),
      ui.button('Reset', () => this.fit(), {
        secondary: true,
        id: 'image-reset',
        title: 'Reset the zoom: the whole image (0, or double-click)',
      }),
      this.status,
    );
    this.element = h('div', { class: 'image-view' }, toolbar, this.viewport, this.insets);
    this.wire();
  }

  private showImage(m: { uri: string; served: ImageSize; original: ImageSize }): void {
    this.served = m.served;
    this.img.src = m.uri;
    this.setGeometry(m.original);
    this.showStatus();
    this.drawBoxes();
    // The view may already be zoomed past the thumbnail (the same image shown again).
    this.applyView();
  }

  private showStatus(): void {
    const size = this.size;
    const served = this.served;
    if (!size || !served) return;
    const preview =
      Math.max(served.width, served.height) < Math.max(size.width, size.height) ? ` · preview ${served.width}×${served.height}` : '';
    const level = this.tiles.level;
    this.status.textContent = `${size.width}×${size.height}${preview}${level === null ? '' : ` · tiles 1:${2 ** level}`}`;
  }

  /** Sizes the stage to the original image; the first time per image, fits it to the viewport. */
  private setGeometry(size: ImageSize): void {
    this.size = size;
    this.stage.style.width = `${size.width}px`;
    this.stage.style.height = `${size.height}px`;
    this.overlay.setAttribute('viewBox', `0 0 ${size.width} ${size.height}`);
    this.overlay.setAttribute('width', String(size.width));
    this.overlay.setAttribute('height', String(size.height));
    if (!this.fitted) {
      this.fitted = true;
      this.fit();
    }
  }

  show(content: ImageContent): void {
    const samePath = content.path === this.content.path && this.size !== null;
    this.content = content;
    // Without an image only the line saying so is shown: no empty viewport takes the space.
    this.element.classList.toggle('no-image', !content.path);
    this.selectedCorrected = -1;
    if (!samePath) {
      this.size = null;
      this.served = null;
      this.tiles.reset(content.path ?? null);
      this.fitted = false;
      this.img.removeAttribute('src');
      // Boxes are placed at once when the size is known; the pixels follow.
      if (content.size) this.setGeometry(content.size);
      if (content.path) {
        this.imageRequest?.forget();
        this.imageRequest = this.host.request({ type: 'getImage', path: content.path, maxSide: FIRST_SIDE });
        this.imageRequest.reply.then(
          (m) => this.showImage(m),
          () => undefined,
        );
      } else this.status.textContent = 'no image for this sample';
    }
    this.drawBoxes();
    this.drawInsets();
  }

  setCorrected(boxes: Box[]): void {
    this.content = { ...this.content, corrected: boxes };
    if (this.selectedCorrected >= boxes.length) this.selectedCorrected = -1;
    this.drawBoxes();
  }

  setDrawMode(on: boolean): void {
    this.drawMode = on;
    this.viewport.classList.toggle('drawing', on);
  }

  /** Emphasises one box (hover from the trace), or none. */
  highlight(key: string | null): void {
    this.highlighted = key;
    for (const el of this.overlay.querySelectorAll<SVGGElement>('g.box')) el.classList.toggle('hot', el.dataset.key === key);
    if (key) this.showTooltip(key);
    else this.tooltip.hidden = true;
  }

  private drawInsets(): void {
    this.insets.replaceChildren();
    for (const r of this.insetRequests) r.forget();
    this.insetRequests = [];
    const path = this.content.path;
    if (!path) return;
    this.content.tools.forEach((box, i) => {
      const card = h(
        'figure',
        { class: 'inset', data: { key: `t${i}` } },
        h('img', { attrs: { alt: `zoom ${i + 1}` } }),
        h('figcaption', {}, `zoom #${i + 1} [${box.join(', ')}]`),
      );
      card.addEventListener('mouseenter', () => this.hover(`t${i}`));
      card.addEventListener('mouseleave', () => this.hover(null));
      this.insets.append(card);
      const asked = this.host.request({ type: 'getImage', path, maxSide: 240, region: box });
      this.insetRequests.push(asked);
      asked.reply.then(
        (m) => {
          const im = card.querySelector('img');
          if (im) im.src = m.uri;
        },
        () => undefined,
      );
    });
  }

  private fit(): void {
    if (!this.size) return;
    this.view = fitView(this.size, { width: this.viewport.clientWidth || 400, height: this.viewport.clientHeight || 300 });
    this.applyView();
  }

  private applyView(): void {
    const v = this.view;
    this.stage.style.transform = `translate(${v.tx}px, ${v.ty}px) scale(${v.scale})`;
    // The overlay is scaled with the image: one screen pixel is 1/scale image pixels, so strokes and
    // labels stay the same size on screen at any zoom.
    this.overlay.style.setProperty('--px', String(1 / v.scale));
    this.placeLabels();
    this.drawHandles();
    if (this.size && this.served) {
      const viewport = { width: this.viewport.clientWidth, height: this.viewport.clientHeight };
      this.tiles.update(this.size, v, viewport, window.devicePixelRatio || 1, Math.max(this.served.width, this.served.height));
    }
  }

  private drawBoxes(): void {
    const o = this.overlay;
    o.replaceChildren();
    const add = (kind: Kind, boxes: Box[], visible: boolean, labels?: string[]) => {
      if (!visible) return;
      boxes.forEach((b, i) => {
        const key = `${kind}${i}`;
        const g = svg('g', {
          class: `box ${KIND_LABEL[kind]}${key === this.highlighted ? ' hot' : ''}${kind === 'c' && i === this.selectedCorrected ? ' selected' : ''}`,
        });
        g.dataset.key = key;
        const rect = svg('rect', { x: b[0], y: b[1], width: Math.max(0, b[2] - b[0]), height: Math.max(0, b[3] - b[1]) });
        // Predicted labels try under their box first so they do not meet the evidence label above it.
        const text = svg('text', {});
        text.dataset.below = String(kind === 'p' || kind === 't');
        text.textContent = labels?.[i] ? `${KIND_LABEL[kind]} ${i + 1}: ${labels[i]}` : `${KIND_LABEL[kind]} ${i + 1}`;
        g.append(rect, text);
        g.addEventListener('mouseenter', () => this.hover(key));
        g.addEventListener('mouseleave', () => this.hover(null));
        o.append(g);
      });
    };
    add('e', this.content.evidence, this.layers.evidence, this.content.evidenceLabels);
    add('t', this.content.tools, true);
    add('p', this.content.predicted, this.layers.predicted);
    add('c', this.content.corrected, this.layers.corrected);
    o.append(this.handles);
    this.placeLabels();
    this.drawHandles();
  }

  /** Puts every label inside the image and apart from the others, at the current zoom. */
  private placeLabels(): void {
    if (!this.size) return;
    const font = LABEL_PX / this.view.scale;
    // Boxes of the sample shown before may still be drawn while a new one is being set up.
    const groups = [...this.overlay.querySelectorAll<SVGGElement>('g.box')].filter((g) => this.boxOf(g.dataset.key!));
    const requests = groups.map((g) => {
      const text = g.querySelector('text')!;
      const box = this.boxOf(g.dataset.key!)!;
      return { box, width: (text.textContent ?? '').length * font * 0.6, height: font * 1.25, below: text.dataset.below === 'true' };
    });
    const rects = layoutLabels(requests, this.size);
    groups.forEach((g, i) => {
      const text = g.querySelector('text')!;
      const r = rects[i]!;
      text.setAttribute('font-size', String(font));
      text.setAttribute('x', String(r.x));
      // The baseline sits a font size below the top, the descenders inside the rectangle.
      text.setAttribute('y', String(r.y + font));
    });
  }

  /** Resize handles on the selected corrected box, kept the same size on screen at any zoom. */
  private drawHandles(): void {
    const box = this.content.corrected[this.selectedCorrected];
    this.handles.replaceChildren();
    if (!box || !this.layers.corrected) return;
    const side = HANDLE_PX / this.view.scale;
    for (const name of HANDLES) {
      const [x, y] = handlePoint(box, name);
      const r = svg('rect', { class: `handle ${name}`, x: x - side / 2, y: y - side / 2, width: side, height: side });
      r.dataset.handle = name;
      this.handles.append(r);
    }
  }

  private hover(key: string | null): void {
    this.highlight(key);
    this.onHover(key);
  }

  private boxOf(key: string): Box | undefined {
    const i = Number(key.slice(1));
    const list = { p: this.content.predicted, e: this.content.evidence, t: this.content.tools, c: this.content.corrected }[key[0] as Kind];
    return list?.[i];
  }

  private showTooltip(key: string): void {
    const box = this.boxOf(key);
    if (!box) return;
    const kind = key[0] as Kind;
    let text = `${KIND_LABEL[kind]} #${Number(key.slice(1)) + 1} [${box.map((n) => Math.round(n)).join(', ')}]`;
    if (kind !== 'e' && this.content.evidence.length > 0) {
      const m = bestMatch(box, this.content.evidence);
      text += ` · IoU ${m.iou.toFixed(2)} with evidence #${m.index + 1}`;
    }
    this.tooltip.textContent = text;
    this.tooltip.hidden = false;
  }

  private point(ev: MouseEvent): [number, number] {
    const r = this.viewport.getBoundingClientRect();
    return toImage(this.view, ev.clientX - r.left, ev.clientY - r.top);
  }

  private wire(): void {
    const vp = this.viewport;
    vp.addEventListener(
      'wheel',
      (ev) => {
        ev.preventDefault();
        const r = vp.getBoundingClientRect();
        this.view = zoomAt(this.view, wheelFactor(ev), ev.clientX - r.left, ev.clientY - r.top);
        this.applyView();
      },
      { passive: false },
    );
    vp.addEventListener('dblclick', (ev) => {
      if (this.drawMode || (ev.target as Element).closest('g.box.corrected')) return;
      this.fit();
    });
    vp.addEventListener('keydown', (ev) => {
      const c = { x: vp.clientWidth / 2, y: vp.clientHeight / 2 };
      if (ev.key === '+' || ev.key === '=') this.view = zoomAt(this.view, 1.25, c.x, c.y);
      else if (ev.key === '-') this.view = zoomAt(this.view, 0.8, c.x, c.y);
      else if (ev.key === '0') return this.fit();
      else if ((ev.key === 'Delete' || ev.key === 'Backspace') && this.selectedCorrected >= 0) {
        const boxes = this.content.corrected.filter((_, i) => i !== this.selectedCorrected);
        this.selectedCorrected = -1;
        this.setCorrected(boxes);
        this.onCorrectedChange(boxes);
        return;
      } else return;
      ev.preventDefault();
      this.applyView();
    });
    vp.addEventListener('mousedown', (ev) => {
      if (ev.button !== 0 || !this.size) return;
      vp.focus();
      const target = (ev.target as Element).closest<SVGGElement>('g.box.corrected');
      const handle = (ev.target as Element).closest<SVGRectElement>('rect.handle')?.dataset.handle as Handle | undefined;
      const p = this.point(ev);
      if (handle && this.selectedCorrected >= 0) {
        const index = this.selectedCorrected;
        this.drag = { mode: 'resize', start: p, view: this.view, box: this.content.corrected[index], index, handle };
      } else if (this.drawMode) this.drag = { mode: 'draw', start: p, view: this.view };
      else if (target && this.layers.corrected) {
        const index = Number(target.dataset.key!.slice(1));
        this.selectedCorrected = index;
        this.drag = { mode: 'move', start: p, view: this.view, box: this.content.corrected[index], index };
        this.drawBoxes();
      } else this.drag = { mode: 'pan', start: [ev.clientX, ev.clientY], view: this.view };
      ev.preventDefault();
    });
    window.addEventListener('mousemove', (ev) => {
      const d = this.drag;
      if (!d || !this.size) return;
      if (d.mode === 'pan') {
        this.view = { ...d.view, tx: d.view.tx + ev.clientX - d.start[0], ty: d.view.ty + ev.clientY - d.start[1] };
        this.applyView();
      } else if (d.mode === 'draw') {
        d.box = boxFromPoints(d.start, this.point(ev), this.size);
        const index = d.index ?? this.content.corrected.length;
        d.index = index;
        this.selectedCorrected = index;
        this.setCorrected([...this.content.corrected.slice(0, index), d.box]);
      } else if (d.mode === 'resize' && d.box && d.index !== undefined && d.handle) {
        const boxes = this.content.corrected.slice();
        boxes[d.index] = resizeBox(d.box, d.handle, this.point(ev), this.size);
        this.setCorrected(boxes);
      } else if (d.box && d.index !== undefined) {
        const p = this.point(ev);
        const boxes = this.content.corrected.slice();
        boxes[d.index] = moveBox(d.box, p[0] - d.start[0], p[1] - d.start[1], this.size);
        this.setCorrected(boxes);
      }
    });
    window.addEventListener('mouseup', () => {
      const d = this.drag;
      this.drag = null;
      if (!d || d.mode === 'pan') return;
      let boxes = this.content.corrected;
      // A click without a drag in draw mode leaves no zero-area box behind.
      if (d.mode === 'draw') boxes = boxes.filter((b) => b[2] - b[0] >= 2 && b[3] - b[1] >= 2);
      this.setCorrected(boxes);
      this.onCorrectedChange(boxes);
    });
  }
}

/** The zoom factor of one wheel event: lines and pages count as pixels, and one event zooms by at most MAX_WHEEL_FACTOR. */
function wheelFactor(ev: WheelEvent): number {
  const px = ev.deltaY * (ev.deltaMode === 1 ? 16 : ev.deltaMode === 2 ? 400 : 1);
  return Math.min(MAX_WHEEL_FACTOR, Math.max(1 / MAX_WHEEL_FACTOR, Math.exp(-px * 0.0015)));
}
