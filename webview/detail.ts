/**
 * One sample in full: header, trace with highlighted spans, reward breakdown with each term's
 * explanation, the image with its box layers, the Try prompt box and the annotation form. Shows a
 * training rollout, an evaluation sample or a Try prompt answer alike.
 */
import type { TryPromptResult } from '../src/core/protocol/webview';
import { questionOf } from '../src/core/row-text';
import { parseTrace } from '../src/core/trace';
import type { AnnotationRecord, Box, CoordConvention, ImageSize, RewardBreakdown, RewardTerm } from '../src/core/types';
import { fill, fmt, h } from './dom';
import { ENGINE_LABEL } from './eval-view';
import type { Host } from './host';
import { ImageView, type Layers } from './image-view';
import { TraceView } from './trace-view';
import { TryPromptBox } from './try-prompt';
import * as ui from './ui/index';

export interface Subject {
  /** 'try': an answer from the Try prompt box; it has no record to annotate. */
  kind: 'rollout' | 'eval' | 'try';
  id: string;
  /** The other run on this dataset the sample belongs to; its annotations are that run's, so no form here. */
  run?: string;
  promptId: string;
  title: string;
  /** Label/value pairs for the header line. */
  facts: [string, string][];
  /** Absent when there is no expected answer to judge by (a Try prompt question). */
  correct?: boolean;
  /** How the output writes coordinates, when it is known to differ from the panel's default. */
  convention?: CoordConvention;
  input: string;
  output: string;
  image?: string;
  imageSize?: ImageSize;
  boxes: Box[];
  evidence: Box[];
  evidenceLabels?: string[];
  rewards?: RewardBreakdown;
}

const TERMS: RewardTerm[] = ['accuracy', 'format', 'grounding', 'consistency', 'tool'];

export class DetailView {
  readonly element: HTMLElement;
  private readonly head: HTMLElement;
  private readonly question: HTMLElement;
  private readonly prompt: HTMLElement;
  private readonly rewards: HTMLElement;
  private readonly trace = new TraceView();
  readonly image: ImageView;
  private readonly form: HTMLElement;
  readonly tryBox: TryPromptBox;
  private subject: Subject | null = null;
  /** The sample a Try prompt answer was asked about, which "Back" returns to. */
  private asked: Subject | null = null;
  /** The current annotations of the run, so "Back" shows the asked-about sample's latest one. */
  private annotations: AnnotationRecord[] = [];
  private annotation: AnnotationRecord | null = null;
  /** Annotations this panel replaced, newest last, per target: what Undo restores. */
  private readonly history = new Map<string, (AnnotationRecord | null)[]>();
  private corrected: Box[] = [];
  private tags: string[] = [];
  /** The annotation form's controls, while a form is shown. */
  private draft: { note: ui.Control<string>; boxes: ui.Control<boolean>[] } | null = null;
  convention: CoordConvention = 'qwen25-abs';

  constructor(
    private readonly host: Host,
    layers: Layers,
    onLayers: (l: Layers) => void,
    private readonly onCompare: (promptId: string) => void,
  ) {
    this.image = new ImageView(host, layers, onLayers);
    this.head = h('div', { class: 'detail-head' });
    this.question = h('div', { class: 'question', attrs: { 'aria-label': 'Question' } });
    this.prompt = h('details', { class: 'prompt' });
    this.rewards = h('div', { class: 'rewards' });
    this.form = h('div', { class: 'annotate', attrs: { 'aria-label': 'Annotation' } });
    this.tryBox = new TryPromptBox(host, (r) => this.showTryResult(r));
    this.trace.onHover = (k) => this.image.highlight(k);
    this.image.onHover = (k) => this.trace.highlight(k);
    this.image.onCorrectedChange = (boxes) => {
      this.corrected = boxes;
      this.renderCorrectedCount();
    };
    const left = h('div', { class: 'detail-text' }, this.head, this.question, this.prompt, this.trace.element, this.rewards);
    const right = h('div', { class: 'detail-media' }, this.image.element, this.tryBox.element, this.form);
    this.element = h('div', { class: 'detail empty-detail' }, left, right);
    this.head.append(h('p', { class: 'muted' }, 'Select a rollout to see its trace, boxes and rewards.'));
  }

  setTags(tags: string[]): void {
    // A tag set changed while the user is writing keeps the note and the ticks that still exist.
    const draft = this.draft ? { note: this.draft.note.value, ticked: this.tags.filter((_, j) => this.draft!.boxes[j]?.value) } : null;
    this.tags = tags;
    if (!this.subject) return;
    this.renderForm();
    if (!draft || !this.draft) return;
    this.draft.note.value = draft.note;
    this.tags.forEach((t, j) => {
      if (draft.ticked.includes(t)) this.draft!.boxes[j]!.value = true;
    });
  }

  get current(): Subject | null {
    return this.subject;
  }

  show(s: Subject, annotation: AnnotationRecord | null): void {
    if (s.kind !== 'try') {
      this.asked = null;
      this.tryBox.setSource({ image: s.image, ...(s.kind === 'eval' ? { question: s.input } : {}) });
    }
    // Showing the sample again (a second click, a re-sent record) keeps an unsaved note, ticks and boxes.
    const keepDraft =
      this.subject?.kind === s.kind &&
      this.subject.id === s.id &&
      this.subject.run === s.run &&
      JSON.stringify(annotation) === JSON.stringify(this.annotation);
    this.subject = s;
    this.annotation = annotation;
    if (!keepDraft) this.corrected = annotation?.correctedBoxes.slice() ?? [];
    this.element.classList.remove('empty-detail');
    this.element.dataset.id = s.id;
    this.element.dataset.kind = s.kind;
    if (s.run) this.element.dataset.run = s.run;
    else delete this.element.dataset.run;
    const verdict =
      s.correct === undefined ? null : h('span', { class: s.correct ? 'ok' : 'bad' }, s.correct ? '✓ correct' : '✗ incorrect');
    const asked = this.asked;
    fill(
      this.head,
      h('h2', {}, s.title),
      h(
        'div',
        { class: 'facts' },
        ...s.facts.map(([k, v]) => h('span', { class: 'fact', data: { fact: k } }, h('b', {}, k), ' ', v)),
        verdict,
      ),
      asked
        ? ui.button(
            `Back to ${asked.kind === 'eval' ? 'eval sample' : 'rollout'}`,
            () => this.show(asked, this.annotations.find((a) => a.target.kind === asked.kind && a.target.id === asked.id) ?? null),
            { secondary: true, id: 'try-back', title: asked.title },
          )
        : ui.button('Compare streams', () => this.onCompare(s.promptId), {
            secondary: true,
            id: 'compare-button',
            title: 'Both streams and all checkpoints for this question',
          }),
    );
    // The question is what a reader needs first; the templated prompt stays one click away.
    const question = questionOf(s.input);
    fill(this.question, h('b', {}, 'Question '), question);
    this.prompt.hidden = question === s.input.trim();
    fill(this.prompt, h('summary', {}, 'Full prompt'), h('pre', { class: 'prompt-text' }, s.input));
    const size = s.imageSize ?? { width: 1000, height: 1000 };
    const parsed = parseTrace(s.output, { convention: s.convention ?? this.convention, original: size });
    this.trace.render(s.output, parsed);
    this.renderRewards(s.rewards);
    this.image.show({
      path: s.image,
      size: s.imageSize,
      predicted: s.boxes,
      evidence: s.evidence,
      evidenceLabels: s.evidenceLabels,
      tools: parsed.toolCalls.flatMap((t) => (t.box ? [t.box] : [])),
      corrected: this.corrected,
    });
    this.form.hidden = s.kind === 'try' || s.run !== undefined;
    if (!keepDraft) this.renderForm();
  }

  /** Shows a Try prompt answer in place of the sample it was asked about, with a way back. */
  private showTryResult(r: TryPromptResult): void {
    const current = this.subject;
    if (current && current.kind !== 'try') this.asked = current;
    const from = this.asked;
    this.show(
      {
        kind: 'try',
        id: `try:${r.checkpoint}:${r.kind}:${Date.now()}`,
        promptId: from?.promptId ?? '',
        title: `Try prompt · ${r.kind} · step ${r.checkpoint}`,
        facts: [
          ['engine', ENGINE_LABEL[r.engine]],
          ['checkpoint', `step ${r.checkpoint}`],
          ['answer', r.answer ?? '(none)'],
          ['boxes', String(r.boxes.length)],
          ['tokens', `${r.promptTokens}+${r.completionTokens}`],
          ['time', `${r.seconds.toFixed(1)} s`],
          ['finish', r.finish],
        ],
        input: r.input,
        output: r.output,
        image: r.image,
        imageSize: r.imageSize,
        boxes: r.boxes,
        // The question is the user's own: the dataset's evidence boxes answer another one.
        evidence: [],
        convention: r.convention,
      },
      null,
    );
  }

  /** A newer annotation for the shown sample arrived (this panel's save or another window's). */
  annotationChanged(records: AnnotationRecord[]): void {
    this.annotations = records;
    const s = this.subject;
    if (!s || s.run !== undefined) return;
    const next = records.find((r) => r.target.kind === s.kind && r.target.id === s.id) ?? null;
    if (JSON.stringify(next) === JSON.stringify(this.annotation)) return;
    this.annotation = next;
    this.corrected = next?.correctedBoxes.slice() ?? [];
    this.image.setCorrected(this.corrected);
    this.renderForm();
  }

  private renderRewards(r: RewardBreakdown | undefined): void {
    if (!r) {
      this.rewards.replaceChildren();
      return;
    }
    const rows = TERMS.flatMap((t) => {
      const v = r[t];
      if (!v) return [];
      return [
        h(
          'tr',
          { data: { term: t } },
          h('th', {}, t),
          h('td', { class: 'num' }, fmt(v.value)),
          h('td', { class: 'num muted' }, `×${fmt(v.weight, 2)}`),
          h('td', { class: 'num' }, fmt(v.value * v.weight)),
          h('td', { class: 'explain' }, v.explanation),
        ),
      ];
    });
    fill(
      this.rewards,
      h('h3', {}, 'Reward breakdown'),
      h(
        'table',
        { class: 'reward-table' },
        h('thead', {}, h('tr', {}, ...['term', 'value', 'weight', 'weighted', 'why'].map((c) => h('th', {}, c)))),
        h('tbody', {}, ...rows),
      ),
    );
  }

  private correctedCount: HTMLElement = h('span');

  private renderCorrectedCount(): void {
    this.correctedCount.textContent =
      this.corrected.length === 0
        ? 'no corrected boxes'
        : `${this.corrected.length} corrected box${this.corrected.length > 1 ? 'es' : ''}: ${this.corrected.map((b) => `[${b.join(', ')}]`).join(' ')}`;
  }

  private renderForm(): void {
    const s = this.subject!;
    this.draft = null;
    if (s.kind === 'try' || s.run !== undefined) return this.form.replaceChildren();
    const kind = s.kind;
    const current = new Set(this.annotation?.tags ?? []);
    const boxes = this.tags.map((t) => ui.checkbox(t, current.has(t), () => {}, { id: `tag-${t}`, value: t }));
    const note = ui.textArea({
      placeholder: 'Note (why this is a failure, what the model should have done)…',
      value: this.annotation?.note ?? '',
      id: 'annotation-note',
    });
    this.draft = { note, boxes };
    this.correctedCount = h('span', { class: 'muted', data: { role: 'corrected' } });
    this.renderCorrectedCount();
    let drawing = false;
    const draw = ui.button(
      'Draw box',
      () => {
        drawing = !drawing;
        this.image.setDrawMode(drawing);
        draw.textContent = drawing ? 'Stop drawing' : 'Draw box';
      },
      {
        secondary: true,
        id: 'draw-box',
        title:
          'Drag on the image to draw a corrected box; drag a corrected box to move it or its handles to resize it; Delete removes the selected one',
      },
    );
    this.image.setDrawMode(false);
    const save = () => {
      const record: AnnotationRecord = {
        v: 1,
        target: { kind, id: s.id },
        tags: this.tags.filter((_, j) => boxes[j]!.value),
        note: note.value,
        correctedBoxes: this.corrected,
        time: Date.now(),
      };
      this.remember(s);
      this.host.post({ type: 'annotate', record });
    };
    const undo = () => {
      const stack = this.history.get(`${s.kind}:${s.id}`);
      const previous = stack && stack.length > 0 ? stack.pop()! : null;
      // Undo is a new record: the previous version again, or a withdrawal when there was none.
      const record: AnnotationRecord = previous
        ? { ...previous, time: Date.now() }
        : { v: 1, target: { kind, id: s.id }, tags: [], note: '', correctedBoxes: [], time: Date.now(), deleted: true };
      this.host.post({ type: 'annotate', record });
    };
    const state = this.annotation ? `annotated ${new Date(this.annotation.time).toLocaleString()}` : 'not annotated';
    fill(
      this.form,
      h('h3', {}, 'Annotate failure'),
      h('div', { class: 'tag-list' }, ...boxes.map((b) => b.element)),
      note.element,
      h(
        'div',
        { class: 'row-buttons' },
        draw,
        ui.button(
          'Clear boxes',
          () => {
            this.corrected = [];
            this.image.setCorrected([]);
            this.renderCorrectedCount();
          },
          { secondary: true, id: 'clear-boxes' },
        ),
      ),
      this.correctedCount,
      h(
        'div',
        { class: 'row-buttons' },
        ui.button('Save', save, { id: 'save-annotation' }),
        ui.button('Undo', undo, { secondary: true, id: 'undo-annotation', title: 'Writes a new record restoring the previous version' }),
        h('span', { class: 'muted', data: { role: 'annotation-state' } }, state),
      ),
    );
  }

  private remember(s: Subject): void {
    const key = `${s.kind}:${s.id}`;
    const stack = this.history.get(key) ?? [];
    stack.push(this.annotation);
    this.history.set(key, stack);
  }
}
