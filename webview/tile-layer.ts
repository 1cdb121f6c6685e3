/**
 * Sharp detail over the image view's thumbnail: once the zoom shows the thumbnail's pixels
 * enlarged, asks the extension for the pyramid tiles (src/core/tiles.ts) that cover the visible
 * part at the level the on-screen scale needs, and draws each where it belongs as it arrives.
 * When the view moves on, requests for tiles it no longer shows are dropped and their answers
 * ignored, and tiles gone off screen are removed.
 */
import { MAX_TILE_LEVEL, tileKey, tilesForView, visibleRegion, type PixelRect, type ViewTransform } from '../src/core/tiles';
import type { ImageSize } from '../src/core/types';
import { h } from './dom';
import type { Host, PendingRequest } from './host';

const intersects = (a: PixelRect, b: PixelRect): boolean =>
  Math.min(a.left + a.width, b.left + b.width) > Math.max(a.left, b.left) &&
  Math.min(a.top + a.height, b.top + b.height) > Math.max(a.top, b.top);

export class TileLayer {
  readonly element: HTMLElement;
  /** Called when the level in use changes (for the status line). */
  onChange: () => void = () => {};
  private path: string | null = null;
  private readonly drawn = new Map<string, { el: HTMLImageElement; rect: PixelRect }>();
  /** Tiles asked for and not drawn yet, by tile key. */
  private readonly pending = new Map<string, PendingRequest<unknown>>();
  private current: number | null = null;

  constructor(private readonly host: Host) {
    this.element = h('div', { class: 'tiles' });
  }

  private draw(key: string, m: { level: number; rect: PixelRect; uri: string }): void {
    const el = h('img', { class: 'tile', attrs: { alt: '', draggable: 'false' }, data: { key, level: m.level } });
    Object.assign(el.style, {
      left: `${m.rect.left}px`,
      top: `${m.rect.top}px`,
      width: `${m.rect.width}px`,
      height: `${m.rect.height}px`,
      zIndex: String(MAX_TILE_LEVEL - m.level),
    });
    el.src = m.uri;
    this.drawn.get(key)?.el.remove();
    this.drawn.set(key, { el, rect: m.rect });
    this.element.append(el);
  }

  /** The pyramid level the view is drawn at, or null while the thumbnail is sharp enough. */
  get level(): number | null {
    return this.current;
  }

  /** Starts over for another image (or none): drops what was asked for and removes what was drawn. */
  reset(path: string | null): void {
    this.path = path;
    this.dropPending(() => true);
    for (const t of this.drawn.values()) t.el.remove();
    this.drawn.clear();
    this.current = null;
  }

  /** Brings the tiles in line with the view of an image whose thumbnail's longer side is `thumbnailSide`. */
  update(size: ImageSize, view: ViewTransform, viewport: ImageSize, devicePixelRatio: number, thumbnailSide: number): void {
    const path = this.path;
    if (!path || thumbnailSide <= 0) return;
    const want = tilesForView(size, view, viewport, devicePixelRatio, thumbnailSide);
    const wanted = new Set((want?.tiles ?? []).map(tileKey));
    this.dropPending((key) => !wanted.has(key));
    // Zoomed back out to where the thumbnail suffices, tiles would only hold memory.
    const region = want ? visibleRegion(size, view, viewport) : null;
    for (const [key, t] of this.drawn) {
      if (!region || !intersects(t.rect, region)) {
        t.el.remove();
        this.drawn.delete(key);
      }
    }
    for (const t of want?.tiles ?? []) {
      const key = tileKey(t);
      if (this.drawn.has(key) || this.pending.has(key)) continue;
      const asked = this.host.request({ type: 'getTile', path, ...t });
      this.pending.set(key, asked);
      asked.reply.then(
        (m) => {
          this.pending.delete(key);
          if (m.path === this.path) this.draw(key, m);
        },
        // A tile the extension could not make is asked for again only when the view next needs it.
        () => this.pending.delete(key),
      );
    }
    const level = want?.level ?? null;
    if (level !== this.current) {
      this.current = level;
      this.onChange();
    }
  }

  private dropPending(drop: (key: string) => boolean): void {
    const ids: number[] = [];
    for (const [key, asked] of this.pending) {
      if (!drop(key)) continue;
      asked.forget();
      this.pending.delete(key);
      ids.push(asked.id);
    }
    if (ids.length > 0) this.host.post({ type: 'dropTiles', requestIds: ids });
  }
}
