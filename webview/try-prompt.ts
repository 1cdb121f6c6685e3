/**
 * The "Try prompt" box: one question about the image on screen, asked in the textual or grounded
 * prompt format and run by the extension on the ONNX Runtime engine for a chosen checkpoint (or
 * the latest). It shows the host's progress while busy and errors in place; the result goes to
 * `onResult`, which shows it like any rollout.
 */
import {
  tryPromptRequestSchema,
  TRY_PROMPT_KINDS,
  type TryPromptKind,
  type TryPromptRequest,
  type TryPromptResult,
} from '../src/core/protocol/webview';
import { fill, h } from './dom';
import type { Host } from './host';
import * as ui from './ui/index';

export interface TrySource {
  /** The image as the selected record names it. */
  image?: string;
  /** A question to start from (an eval sample's), when the field holds nothing typed by the user. */
  question?: string;
}

type BoxState = 'idle' | 'busy' | 'done' | 'error';

const KIND_LABEL: Record<TryPromptKind, string> = { textual: 'Textual', grounded: 'Grounded (boxes)' };

export class TryPromptBox {
  readonly element: HTMLElement;
  private readonly question: ui.Control<string>;
  private readonly kind: ui.Control<string>;
  private readonly checkpointSlot: HTMLElement;
  private checkpoint: ui.Control<string>;
  private readonly run: HTMLElement;
  private readonly cancel: HTMLElement;
  private readonly status: HTMLElement;
  private source: TrySource = {};
  /** The question this box last filled in itself; replaced on a new sample unless the user edited it. */
  private prefilled = '';
  private steps: number[] = [];
  private pending = -1;
  /** The request whose error this box showed last (the panel's error bar leaves it out). */
  private answered = -1;

  constructor(
    private readonly host: Host,
    private readonly onResult: (result: TryPromptResult) => void,
  ) {
    this.question = ui.textArea({ placeholder: 'Ask a question about this image… (Ctrl+Enter runs it)', id: 'try-question', rows: 2 });
    this.kind = ui.select(
      TRY_PROMPT_KINDS.map((k) => ({ value: k, label: KIND_LABEL[k] })),
      'grounded',
      () => {},
      { id: 'try-kind', label: 'Prompt format' },
    );
    this.checkpoint = this.checkpointSelect();
    this.checkpointSlot = h('span', {}, this.checkpoint.element);
    this.run = ui.button('Run', () => this.submit(), {
      id: 'try-run',
      title: 'Runs the question on the ONNX Runtime engine (the checkpoint is exported to ONNX the first time)',
    });
    this.cancel = ui.button('Cancel', () => this.abort(), { secondary: true, id: 'try-cancel' });
    this.cancel.hidden = true;
    this.status = h('span', {
      class: 'muted try-status',
      data: { role: 'try-status', state: 'idle' },
      attrs: { role: 'status', 'aria-live': 'polite' },
    });
    this.question.element.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        this.submit();
      }
    });
    this.element = h(
      'section',
      { class: 'try-prompt', attrs: { 'aria-label': 'Try prompt' } },
      h('h3', {}, 'Try prompt ', h('span', { class: 'engine-tag ort' }, 'ONNX Runtime')),
      this.question.element,
      h('div', { class: 'try-options' }, this.kind.element, this.checkpointSlot, this.run, this.cancel),
      this.status,
    );
    host.on('checkpoints', (m) => this.setCheckpoints(m.steps));
    host.on('tryPromptProgress', (m) => {
      if (m.requestId === this.pending) this.setState('busy', m.message);
    });
    host.on('tryPromptResult', (m) => {
      if (m.requestId !== this.pending) return;
      this.pending = -1;
      const r = m.result;
      this.setState(
        'done',
        `Answered by step ${r.checkpoint} in ${r.seconds.toFixed(1)} s · ${r.completionTokens} tokens${r.finish === 'length' ? ' (stopped at the token limit)' : ''}`,
      );
      this.onResult(r);
    });
    host.on('error', (m) => {
      if (m.requestId === undefined || m.requestId !== this.pending) return;
      this.pending = -1;
      this.answered = m.requestId;
      this.setState('error', m.message);
    });
    this.setSource({});
  }

  /** Whether this box already showed the error of request `requestId`. */
  showedError(requestId: number | undefined): boolean {
    return requestId !== undefined && requestId === this.answered;
  }

  /** The sample now on screen: its image is what the question is about. */
  setSource(source: TrySource): void {
    this.source = source;
    const typed = this.question.value;
    if (source.question && (typed === '' || typed === this.prefilled)) {
      this.question.value = source.question;
      this.prefilled = source.question;
    }
    if (this.pending < 0) this.setState('idle', source.image ? '' : 'This sample has no image to ask about.');
  }

  setCheckpoints(steps: number[]): void {
    const chosen = this.checkpoint.value;
    this.steps = steps;
    this.checkpoint = this.checkpointSelect(steps.map(String).includes(chosen) ? chosen : '');
    fill(this.checkpointSlot, this.checkpoint.element);
    if (this.pending < 0 && this.source.image) this.setState('idle', steps.length === 0 ? 'The run has no checkpoint yet.' : '');
  }

  private checkpointSelect(value = ''): ui.Control<string> {
    const latest = this.steps.at(-1);
    const options = [
      { value: '', label: latest === undefined ? 'latest checkpoint' : `latest (step ${latest})` },
      ...[...this.steps].reverse().map((s) => ({ value: String(s), label: `step ${s}` })),
    ];
    return ui.select(options, value, () => {}, { id: 'try-checkpoint', label: 'Checkpoint' });
  }

  private submit(): void {
    if (this.pending >= 0) return;
    if (!this.source.image) return this.setState('error', 'This sample has no image to ask about.');
    const requestId = this.host.requestId();
    const message: TryPromptRequest = {
      type: 'tryPrompt',
      requestId,
      image: this.source.image,
      question: this.question.value,
      kind: this.kind.value as TryPromptKind,
      ...(this.checkpoint.value !== '' ? { checkpoint: Number(this.checkpoint.value) } : {}),
    };
    // The same schema the extension applies: a bad question is explained here, not sent.
    const checked = tryPromptRequestSchema.safeParse(message);
    if (!checked.success) return this.setState('error', `Question: ${checked.error.issues[0]?.message ?? 'not valid'}`);
    this.pending = requestId;
    this.setState('busy', 'Starting…');
    this.host.post(checked.data);
  }

  private abort(): void {
    if (this.pending < 0) return;
    this.host.post({ type: 'cancelTryPrompt', requestId: this.pending });
  }

  private setState(state: BoxState, message: string): void {
    this.status.dataset.state = state;
    this.status.textContent = message;
    this.element.dataset.state = state;
    const busy = state === 'busy';
    this.cancel.hidden = !busy;
    this.run.toggleAttribute('disabled', busy || !this.source.image);
  }
}
