/**
 * One question side by side: the grounded and textual groups of a training step (answers,
 * rewards, boxes), and the same question's evaluation samples across checkpoints and modes.
 */
import type { EvalRecord, RolloutRecord } from '../src/core/types';
import { fill, fmt, h } from './dom';
import { engineTag } from './eval-view';
import * as ui from './ui/index';

export class CompareView {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private rollouts: RolloutRecord[] = [];
  private evals: EvalRecord[] = [];
  private promptId: string | null = null;
  private step: number | null = null;

  constructor(private readonly onOpen: (kind: 'rollout' | 'eval', id: string) => void) {
    this.body = h('div', { class: 'compare-body' }, h('p', { class: 'muted' }, 'Pick a rollout and press “Compare streams”.'));
    this.element = h('div', { class: 'compare' }, this.body);
  }

  show(promptId: string, rollouts: RolloutRecord[], evals: EvalRecord[]): void {
    this.promptId = promptId;
    this.rollouts = rollouts;
    this.evals = evals;
    const steps = [...new Set(rollouts.map((r) => r.step))].sort((a, b) => b - a);
    if (this.step === null || !steps.includes(this.step)) this.step = steps[0] ?? null;
    this.render(steps);
  }

  private render(steps: number[]): void {
    const pick = ui.select(
      steps.map((s) => ({ value: String(s), label: `step ${s}` })),
      String(this.step),
      (v) => {
        this.step = Number(v);
        this.render(steps);
      },
      { id: 'compare-step', label: 'step' },
    );
    const atStep = this.rollouts.filter((r) => r.step === this.step);
    const group = (stream: 'grounded' | 'textual') => {
      const rs = atStep.filter((r) => r.stream === stream).sort((a, b) => a.sample - b.sample);
      const acc = rs.length ? rs.filter((r) => r.correct).length / rs.length : 0;
      const mean = rs.length ? rs.reduce((a, r) => a + r.score, 0) / rs.length : 0;
      return h(
        'section',
        { class: `group ${stream}`, data: { stream } },
        h('h3', {}, `${stream} · ${rs.length} samples · accuracy ${fmt(acc, 2)} · mean reward ${fmt(mean, 2)}`),
        ...rs.map((r) =>
          h(
            'button',
            { class: `card ${r.correct ? 'ok-card' : 'bad-card'}`, data: { id: r.id }, on: { click: () => this.onOpen('rollout', r.id) } },
            h('span', { class: 'card-line' }, h('b', {}, `#${r.sample}`), ` answer ${r.answer ?? '(none)'} `, h('span', { class: r.correct ? 'ok' : 'bad' }, r.correct ? '✓' : '✗'), ` · reward ${fmt(r.score, 2)} · adv ${fmt(r.advantage, 2)}`),
            h('span', { class: 'card-line muted' }, r.boxes.length ? r.boxes.map((b) => `[${b.map(Math.round).join(',')}]`).join(' ') : 'no boxes'),
            h('span', { class: 'card-line terms' }, Object.entries(r.rewards).map(([t, v]) => `${t} ${fmt(v.value, 2)}`).join(' · ')),
          ),
        ),
      );
    };
    const lines = [...new Map(this.evals.map((e) => [`${e.checkpoint}\u0000${e.engine}`, { checkpoint: e.checkpoint, engine: e.engine }])).values()];
    const modes = ['textual', 'grounded', 'tool'] as const;
    const evalTable = h(
      'table',
      { class: 'compare-evals' },
      h('thead', {}, h('tr', {}, h('th', {}, 'checkpoint'), h('th', {}, 'engine'), ...modes.map((m) => h('th', {}, m)))),
      h(
        'tbody',
        {},
        ...lines.map((l) =>
          h(
            'tr',
            { data: { engine: l.engine } },
            h('th', {}, l.checkpoint),
            h('td', {}, engineTag(l.engine)),
            ...modes.map((m) => {
              const e = this.evals.find((x) => x.checkpoint === l.checkpoint && x.engine === l.engine && x.mode === m);
              if (!e) return h('td', { class: 'muted' }, '–');
              return h('td', {}, h('button', { class: `link ${e.correct ? 'ok' : 'bad'}`, on: { click: () => this.onOpen('eval', e.id) } }, `${e.correct ? '✓' : '✗'} ${e.answer ?? '(none)'}${e.iou !== null ? ` · IoU ${fmt(e.iou, 2)}` : ''}`));
            }),
          ),
        ),
      ),
    );
    fill(
      this.body,
      h('div', { class: 'compare-head' }, h('h2', {}, `Question ${this.promptId}`), pick.element),
      h('div', { class: 'groups' }, group('grounded'), group('textual')),
      h('h3', {}, 'Across checkpoints'),
      lines.length ? evalTable : h('p', { class: 'muted' }, 'No evaluation samples for this question yet.'),
    );
  }
}
