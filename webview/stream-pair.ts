/**
 * One step of one question with both streams side by side: the question and its image with every
 * grounded box drawn, then each grounded and each textual trace in full with its reward
 * breakdown; a textual trace also shows what its consistency term measured (the references'
 * 3×3 map against the cells its reasoning names).
 */
import { consistencyView } from '../src/core/consistency-map';
import { questionOf } from '../src/core/row-text';
import type { ImageSize, RewardTerm, RolloutRecord, Stream } from '../src/core/types';
import { fmt, h, svg } from './dom';
import type { Host } from './host';

const TERMS: RewardTerm[] = ['accuracy', 'format', 'grounding', 'consistency', 'tool'];
const SIDE = 420;

function breakdown(r: RolloutRecord): HTMLElement {
  const rows = TERMS.flatMap((t) => {
    const v = r.rewards[t];
    return v
      ? [
          h(
            'tr',
            { data: { term: t } },
            h('th', {}, t),
            h('td', {}, fmt(v.value, 2)),
            h('td', {}, `×${fmt(v.weight, 2)}`),
            h('td', {}, fmt(v.value * v.weight, 2)),
          ),
        ]
      : [];
  });
  return h(
    'table',
    { class: 'pair-rewards' },
    h('tbody', {}, ...rows, h('tr', {}, h('th', {}, 'total'), h('td'), h('td'), h('td', {}, fmt(r.score, 2)))),
  );
}

/** The 3×3 grid: each cell shaded by the references' weight there, outlined where the trace names it. */
function consistencyGrid(r: RolloutRecord, grounded: RolloutRecord[], size: ImageSize): HTMLElement {
  const v = consistencyView(r, grounded, size);
  const cells = v.map.map((w, i) =>
    h(
      'span',
      {
        class: `cell${(v.named[i] ?? 0) > 0 ? ' named' : ''}`,
        data: { cell: i, weight: w.toFixed(2) },
        title: `references ${(w * 100).toFixed(0)} % of the peak${(v.named[i] ?? 0) > 0 ? ` · named ${v.named[i]}×` : ''}`,
      },
      (v.named[i] ?? 0) > 0 ? '●' : '',
    ),
  );
  // Inline styles are refused by the panel's CSP: the shade is a CSS variable set through the CSSOM.
  cells.forEach((c, i) => c.style.setProperty('--w', String(v.map[i] ?? 0)));
  return h(
    'figure',
    { class: 'consistency-map' },
    h('div', { class: 'grid3' }, ...cells),
    h(
      'figcaption',
      { class: 'muted' },
      v.references.length === 0
        ? 'no high-quality grounded reference: no consistency signal'
        : `shade: where ${v.references.length} reference(s) looked · ●: regions this trace names`,
    ),
  );
}

function card(r: RolloutRecord, grounded: RolloutRecord[], size: ImageSize | null, open: (id: string) => void): HTMLElement {
  return h(
    'article',
    { class: `pair-card ${r.correct ? 'ok-card' : 'bad-card'}`, data: { id: r.id } },
    h(
      'header',
      {},
      h('button', { class: 'link', on: { click: () => open(r.id) } }, `#${r.sample}`),
      ` answer ${r.answer ?? '(none)'} `,
      h('span', { class: r.correct ? 'ok' : 'bad' }, r.correct ? '✓' : '✗'),
      ` · reward ${fmt(r.score, 2)}`,
    ),
    h('pre', { class: 'trace' }, r.output),
    breakdown(r),
    r.stream === 'textual' && size ? consistencyGrid(r, grounded, size) : null,
  );
}

export function streamPair(host: Host, rollouts: RolloutRecord[], open: (id: string) => void): HTMLElement {
  const first = rollouts[0];
  const of = (s: Stream) => rollouts.filter((r) => r.stream === s).sort((a, b) => a.sample - b.sample);
  const grounded = of('grounded');
  const columns = h('div', { class: 'pair-columns' });
  const image = h('div', { class: 'pair-image' });
  const el = h(
    'section',
    { class: 'stream-pair' },
    h('p', { class: 'question' }, h('b', {}, 'Question '), first ? questionOf(first.input) : ''),
    image,
    columns,
  );
  const fillColumns = (size: ImageSize | null) =>
    columns.replaceChildren(
      ...(['grounded', 'textual'] as const).map((s) =>
        h('div', { class: `pair-column ${s}`, data: { stream: s } }, h('h4', {}, s), ...of(s).map((r) => card(r, grounded, size, open))),
      ),
    );
  fillColumns(null);
  if (!first?.image) return el;
  host.request({ type: 'getImage', path: first.image, maxSide: SIDE }).reply.then(
    (m) => {
      const o = m.original;
      const overlay = svg('svg', { class: 'pair-overlay', viewBox: `0 0 ${o.width} ${o.height}`, preserveAspectRatio: 'none' });
      for (const r of grounded)
        r.boxes.forEach((b) => {
          const g = svg('g', { class: 'box predicted' });
          g.append(svg('rect', { x: b[0], y: b[1], width: Math.max(0, b[2] - b[0]), height: Math.max(0, b[3] - b[1]) }));
          overlay.append(g);
        });
      image.replaceChildren(h('img', { attrs: { src: m.uri, alt: 'question image' } }), overlay);
      image.dataset.boxes = String(overlay.childElementCount);
      // The consistency maps need the image's size to place the references' boxes on the grid.
      fillColumns(o);
    },
    () => undefined,
  );
  return el;
}
