/**
 * The chain of thought with the parser's spans highlighted: <think> and <answer> regions, tags,
 * boxes and tool calls. Every piece is a text node: model output is data, never markup.
 * Box and tool chips carry keys ("p0", "t1") shared with the image view for hover linking.
 */
import type { ParseResult } from '../src/core/types';
import { h } from './dom';

export class TraceView {
  readonly element: HTMLElement;
  onHover: (key: string | null) => void = () => {};
  private readonly body: HTMLElement;
  private readonly problems: HTMLElement;

  constructor() {
    this.body = h('pre', { class: 'trace', attrs: { 'aria-label': 'Model output' } });
    this.problems = h('ul', { class: 'problems' });
    this.element = h('div', { class: 'trace-view' }, this.body, this.problems);
    this.body.addEventListener('mouseover', (ev) => {
      const chip = (ev.target as HTMLElement).closest<HTMLElement>('[data-key]');
      this.onHover(chip?.dataset.key ?? null);
    });
    this.body.addEventListener('mouseleave', () => this.onHover(null));
  }

  render(text: string, parsed: ParseResult): void {
    const frag = document.createDocumentFragment();
    let boxIndex = 0;
    let toolIndex = 0;
    let at = 0;
    for (const seg of parsed.segments) {
      // Text the parser did not cover (there should be none) is still shown, plainly.
      if (seg.span.start > at) frag.append(text.slice(at, seg.span.start));
      const raw = text.slice(seg.span.start, seg.span.end);
      at = Math.max(at, seg.span.end);
      switch (seg.kind) {
        case 'text':
          frag.append(h('span', { class: `seg ${seg.region}` }, raw));
          break;
        case 'tag':
          frag.append(h('span', { class: 'seg tag' }, raw));
          break;
        case 'box': {
          const i = boxIndex++;
          frag.append(
            h(
              'span',
              { class: 'seg box', data: { key: `p${i}` }, title: `predicted box ${i + 1}: [${seg.box.map(Math.round).join(', ')}] px` },
              raw,
            ),
          );
          break;
        }
        case 'ref':
          frag.append(h('span', { class: 'seg ref' }, raw));
          break;
        case 'tool': {
          const i = seg.box ? toolIndex++ : -1;
          frag.append(
            h(
              'span',
              {
                class: 'seg tool',
                data: i >= 0 ? { key: `t${i}` } : {},
                title: `tool call ${seg.name}${seg.box ? ` [${seg.box.map(Math.round).join(', ')}]` : ''}`,
              },
              raw,
            ),
          );
          break;
        }
      }
    }
    if (at < text.length) frag.append(text.slice(at));
    this.body.replaceChildren(frag);
    this.problems.replaceChildren(...parsed.problems.map((p) => h('li', { class: 'problem' }, `${p.code}: ${p.message}`)));
  }

  highlight(key: string | null): void {
    for (const el of this.body.querySelectorAll<HTMLElement>('[data-key]')) el.classList.toggle('hot', el.dataset.key === key);
    if (key) this.body.querySelector<HTMLElement>(`[data-key="${key}"]`)?.scrollIntoView({ block: 'nearest' });
  }
}
