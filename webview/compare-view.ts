/**
 * One question side by side: the grounded and textual groups of a training step (answers,
 * rewards, boxes), the same question's evaluation samples across checkpoints and modes, and the
 * same question in the other runs on this dataset (their latest step and their evaluations).
 */
import type { OtherRunQuestion } from '../src/core/protocol/webview';
import type { EvalRecord, RolloutRecord, Stream } from '../src/core/types';
import { fill, fmt, h } from './dom';
import { engineTag } from './eval-view';
import type { Host } from './host';
import { streamPair } from './stream-pair';
import * as ui from './ui/index';

/** Opens a sample; `run` names the other run it belongs to, absent for this run's own. */
export type OpenSample = (kind: 'rollout' | 'eval', id: string, run?: string) => void;

const MODES = ['textual', 'grounded', 'tool'] as const;

function group(rs: RolloutRecord[], stream: Stream, open: (id: string) => void): HTMLElement {
  const mine = rs.filter((r) => r.stream === stream).sort((a, b) => a.sample - b.sample);
  const acc = mine.length ? mine.filter((r) => r.correct).length / mine.length : 0;
  const mean = mine.length ? mine.reduce((a, r) => a + r.score, 0) / mine.length : 0;
  return h(
    'section',
    { class: `group ${stream}`, data: { stream } },
    h('h3', {}, `${stream} · ${mine.length} samples · accuracy ${fmt(acc, 2)} · mean reward ${fmt(mean, 2)}`),
    ...mine.map((r) =>
      h(
        'button',
        { class: `card ${r.correct ? 'ok-card' : 'bad-card'}`, data: { id: r.id }, on: { click: () => open(r.id) } },
        h(
          'span',
          { class: 'card-line' },
          h('b', {}, `#${r.sample}`),
          ` answer ${r.answer ?? '(none)'} `,
          h('span', { class: r.correct ? 'ok' : 'bad' }, r.correct ? '✓' : '✗'),
          ` · reward ${fmt(r.score, 2)} · adv ${fmt(r.advantage, 2)}`,
        ),
        h(
          'span',
          { class: 'card-line muted' },
          r.boxes.length ? r.boxes.map((b) => `[${b.map(Math.round).join(',')}]`).join(' ') : 'no boxes',
        ),
        h(
          'span',
          { class: 'card-line terms' },
          Object.entries(r.rewards)
            .map(([t, v]) => `${t} ${fmt(v.value, 2)}`)
            .join(' · '),
        ),
      ),
    ),
  );
}

function evalTable(evals: EvalRecord[], open: (id: string) => void): HTMLElement {
  const lines = [
    ...new Map(evals.map((e) => [`${e.checkpoint}\u0000${e.engine}`, { checkpoint: e.checkpoint, engine: e.engine }])).values(),
  ];
  return h(
    'table',
    { class: 'compare-evals' },
    h('thead', {}, h('tr', {}, h('th', {}, 'checkpoint'), h('th', {}, 'engine'), ...MODES.map((m) => h('th', {}, m)))),
    h(
      'tbody',
      {},
      ...lines.map((l) =>
        h(
          'tr',
          { data: { engine: l.engine, checkpoint: l.checkpoint } },
          h('th', {}, l.checkpoint),
          h('td', {}, engineTag(l.engine)),
          ...MODES.map((m) => {
            const e = evals.find((x) => x.checkpoint === l.checkpoint && x.engine === l.engine && x.mode === m);
            if (!e) return h('td', { class: 'muted' }, '–');
            return h(
              'td',
              {},
              h(
                'button',
                { class: `link ${e.correct ? 'ok' : 'bad'}`, data: { id: e.id }, on: { click: () => open(e.id) } },
                `${e.correct ? '✓' : '✗'} ${e.answer ?? '(none)'}${e.iou !== null ? ` · IoU ${fmt(e.iou, 2)}` : ''}`,
              ),
            );
          }),
        ),
      ),
    ),
  );
}

export class CompareView {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private rollouts: RolloutRecord[] = [];
  private evals: EvalRecord[] = [];
  private others: OtherRunQuestion[] = [];
  private promptId: string | null = null;
  private step: number | null = null;

  constructor(
    private readonly host: Host,
    private readonly onOpen: OpenSample,
  ) {
    this.body = h('div', { class: 'compare-body' }, h('p', { class: 'muted' }, 'Pick a rollout and press “Compare streams”.'));
    this.element = h('div', { class: 'compare' }, this.body);
  }

  show(promptId: string, rollouts: RolloutRecord[], evals: EvalRecord[]): void {
    // Other runs answer after this run; what they said about another question is stale.
    if (promptId !== this.promptId) this.others = [];
    this.promptId = promptId;
    this.rollouts = rollouts;
    this.evals = evals;
    this.render();
  }

  /** The same question in the other runs on this dataset (arrives after `show`). */
  showRuns(promptId: string, runs: OtherRunQuestion[]): void {
    if (promptId !== this.promptId) return;
    this.others = runs;
    this.render();
  }

  /** An evaluation sample as last shown: this run's, or with `run` another run's. */
  findEval(id: string, run?: string): EvalRecord | undefined {
    const evals = run === undefined ? this.evals : this.others.find((o) => o.run.id === run)?.evals;
    return evals?.find((e) => e.id === id);
  }

  private render(): void {
    const steps = [...new Set(this.rollouts.map((r) => r.step))].sort((a, b) => b - a);
    if (this.step === null || !steps.includes(this.step)) this.step = steps[0] ?? null;
    const pick = ui.select(
      steps.map((s) => ({ value: String(s), label: `step ${s}` })),
      String(this.step),
      (v) => {
        this.step = Number(v);
        this.render();
      },
      { id: 'compare-step', label: 'step' },
    );
    const atStep = this.rollouts.filter((r) => r.step === this.step);
    const openRollout = (id: string) => this.onOpen('rollout', id);
    fill(
      this.body,
      h('div', { class: 'compare-head' }, h('h2', {}, `Question ${this.promptId}`), steps.length > 0 ? pick.element : null),
      // An evaluation-only question was never sampled in training: its samples are below.
      steps.length > 0
        ? h('div', { class: 'groups' }, group(atStep, 'grounded', openRollout), group(atStep, 'textual', openRollout))
        : h('p', { class: 'muted' }, 'Not sampled in training; its evaluation samples per checkpoint and mode are below.'),
      atStep.length > 0 ? streamPair(this.host, atStep, openRollout) : null,
      h('h3', {}, 'Across checkpoints'),
      this.evals.length
        ? evalTable(this.evals, (id) => this.onOpen('eval', id))
        : h('p', { class: 'muted' }, 'No evaluation samples for this question yet.'),
      h('h3', {}, 'Across runs on this dataset'),
      this.others.length
        ? h('div', { class: 'other-runs' }, ...this.others.map((o) => this.otherRun(o)))
        : h('p', { class: 'muted' }, 'No other run in the workspace uses this dataset.'),
    );
  }

  private otherRun(o: OtherRunQuestion): HTMLElement {
    const run = o.run.id;
    const summary =
      o.step === null ? 'never sampled this question in training' : `${o.total} rollouts of this question · latest step ${o.step}`;
    return h(
      'section',
      { class: 'other-run', data: { run } },
      h('h4', {}, o.run.name ?? run, h('span', { class: 'muted' }, ` · ${summary}`)),
      o.error ? h('p', { class: 'bad' }, `Could not read this run: ${o.error}`) : null,
      o.rollouts.length
        ? h(
            'div',
            { class: 'groups' },
            group(o.rollouts, 'grounded', (id) => this.onOpen('rollout', id, run)),
            group(o.rollouts, 'textual', (id) => this.onOpen('rollout', id, run)),
          )
        : null,
      o.evals.length
        ? evalTable(o.evals, (id) => this.onOpen('eval', id, run))
        : h('p', { class: 'muted' }, 'No evaluation samples for this question in this run.'),
    );
  }
}
