/**
 * Entry of the run panel bundle (dist/webview.js): builds the tabs, keeps the panel state with
 * getState/setState, and routes validated extension messages to the views.
 */
import './panel.css';
import type { AnnotationRecord, EvalRecord, RolloutRecord } from '../src/core/types';
import { PROTOCOL_VERSION } from '../src/core/protocol/version';
import type { PanelStatus } from '../src/core/protocol/webview';
import { ChartsView } from './charts';
import { formatDuration, pace, rewardWeights } from './metrics-series';
import { CompareView } from './compare-view';
import { DetailView, type Subject } from './detail';
import { fill, fmt, h } from './dom';
import { ENGINE_LABEL, EvalView } from './eval-view';
import { Host } from './host';
import { RolloutBrowser } from './rollout-browser';
import { RunControls } from './run-controls';
import { RunsCompareView } from './runs-compare-view';
import { splitter } from './splitter';
import { restoreState, TABS, type PanelState } from './state';
import * as ui from './ui/index';

const errors = h('div', { class: 'errors', attrs: { role: 'alert' } });
const host = new Host((e) => showError(e));
const state: PanelState = restoreState(host.loadState());
let saveTimer = 0;
function save(): void {
  clearTimeout(saveTimer);
  saveTimer = window.setTimeout(() => host.saveState(state), 100);
}

function showError(message: string): void {
  errors.append(h('p', {}, message));
  while (errors.childElementCount > 3) errors.firstElementChild!.remove();
}

let annotations: AnnotationRecord[] = [];
const annotationOf = (kind: 'rollout' | 'eval', id: string) =>
  annotations.find((a) => a.target.kind === kind && a.target.id === id) ?? null;

// --- header: run, status, controls, live counter
const runTitle = h('span', { class: 'run-title' }, 'iVGR run');
const statusText = h('span', { class: 'status', data: { role: 'status' } }, '');
const liveText = h('span', { class: 'live muted', data: { role: 'live' } }, '');
const paceText = h('span', { class: 'pace muted', data: { role: 'pace' } }, '');
const smoothing = h('input', {
  attrs: { type: 'range', min: '0', max: '0.99', step: '0.01', value: String(state.smoothing), 'aria-label': 'Smoothing', id: 'smoothing' },
});
const smoothingValue = h('span', { class: 'muted' }, state.smoothing.toFixed(2));
const controls = new RunControls(host);

// --- views
const charts = new ChartsView(host, state.smoothing);
const runsView = new RunsCompareView(host, state.smoothing, state.comparedRuns, (runs) => {
  state.comparedRuns = runs;
  save();
});
smoothing.addEventListener('input', () => {
  state.smoothing = Number(smoothing.value);
  smoothingValue.textContent = state.smoothing.toFixed(2);
  charts.setSmoothing(state.smoothing);
  runsView.setSmoothing(state.smoothing);
  save();
});
const detail = new DetailView(
  host,
  state.layers,
  (l) => {
    state.layers = l;
    save();
  },
  (promptId) => openCompare(promptId),
);
const browser = new RolloutBrowser(host, state.filter, state.sort, state.scrollTop, {
  onSelect: (row) => selectRollout(row.id),
  onStateChange: (filter, sort, scrollTop) => {
    state.filter = filter;
    state.sort = sort;
    state.scrollTop = scrollTop;
    save();
  },
});
const compare = new CompareView(host, (kind, id, run) => (kind === 'rollout' ? selectRollout(id, true, run) : openEvalById(id, run)));
const evalView = new EvalView(
  host,
  (cell) => {
    state.evalCell = cell;
    save();
  },
  (r) => openEval(r),
);
const rolloutDetailSlot = h('div', { class: 'detail-slot' });
const evalDetailSlot = h('div', { class: 'detail-slot' });

const panels: Record<(typeof TABS)[number], HTMLElement> = {
  charts: h(
    'div',
    { class: 'tab-body' },
    h('div', { class: 'chart-tools' }, h('label', { attrs: { for: 'smoothing' } }, 'Smoothing '), smoothing, smoothingValue, charts.tools),
    charts.element,
  ),
  rollouts: h('div', { class: 'tab-body split' }, browser.element, rolloutDetailSlot),
  compare: h('div', { class: 'tab-body' }, compare.element),
  eval: h('div', { class: 'tab-body' }, evalView.element, evalDetailSlot),
  runs: h('div', { class: 'tab-body' }, runsView.element),
};
panels.rollouts.insertBefore(
  splitter(panels.rollouts, state.listWidth, (px) => {
    state.listWidth = px;
    save();
  }),
  rolloutDetailSlot,
);
const tabLabels = { charts: 'Charts', rollouts: 'Rollouts', compare: 'Compare', eval: 'Evaluation', runs: 'Runs' };
const tabs = ui.tabs(
  TABS.map((id) => ({ id, label: tabLabels[id], panel: panels[id] })),
  TABS.indexOf(state.tab),
  (i) => {
    state.tab = TABS[i]!;
    if (state.tab === 'runs') runsView.show();
    save();
  },
);
function showTab(id: PanelState['tab']): void {
  state.tab = id;
  tabs.select(TABS.indexOf(id));
  save();
}

document.body.replaceChildren(
  h('header', { class: 'top' }, runTitle, statusText, paceText, liveText, controls.element),
  errors,
  tabs.element,
);

// --- selection
let pendingRollout: string | null = null;
let pendingRun: string | undefined;
/** `run`: a rollout of another run on the same dataset (from Compare). */
function selectRollout(id: string, switchTab = false, run?: string): void {
  state.selected = { kind: 'rollout', id, ...(run ? { run } : {}) };
  browser.setSelected(id);
  pendingRollout = id;
  pendingRun = run;
  host.post({ type: 'getRollout', id, ...(run ? { run } : {}) });
  if (switchTab) showTab('rollouts');
  save();
}

function rolloutSubject(
  r: RolloutRecord,
  evidence: Subject['evidence'],
  labels: string[] | undefined,
  size: Subject['imageSize'],
  run: string | undefined,
): Subject {
  return {
    kind: 'rollout',
    id: r.id,
    ...(run ? { run } : {}),
    promptId: r.promptId,
    title: `${r.stream} rollout ${r.id}${run ? ` · run ${run}` : ''}`,
    facts: [
      ...(run ? [['run', run] as [string, string]] : []),
      ['step', String(r.step)],
      ['prompt', r.promptId],
      ['sample', String(r.sample)],
      ['answer', r.answer ?? '(none)'],
      ...(r.expected !== undefined ? [['expected', r.expected] as [string, string]] : []),
      ['reward', fmt(r.score, 3)],
      ['advantage', fmt(r.advantage, 3)],
      ['tokens', `${r.tokens.prompt}+${r.tokens.completion}`],
      ['finish', r.finish],
    ],
    correct: r.correct,
    input: r.input,
    output: r.output,
    image: r.image,
    imageSize: size,
    boxes: r.boxes,
    evidence,
    evidenceLabels: labels,
    rewards: r.rewards,
  };
}

function openEval(r: EvalRecord, run?: string): void {
  state.selected = { kind: 'eval', id: r.id, ...(run ? { run } : {}) };
  save();
  evalDetailSlot.append(detail.element);
  detail.show(
    {
      kind: 'eval',
      id: r.id,
      ...(run ? { run } : {}),
      promptId: r.promptId,
      title: `${r.mode} evaluation · ${r.checkpoint} · ${ENGINE_LABEL[r.engine]} · ${r.promptId}${run ? ` · run ${run}` : ''}`,
      facts: [
        ...(run ? [['run', run] as [string, string]] : []),
        ['answer', r.answer ?? '(none)'],
        ['expected', r.expected],
        ['IoU', fmt(r.iou, 2)],
        ['tool calls', String(r.toolCalls)],
        ['engine', ENGINE_LABEL[r.engine]],
      ],
      correct: r.correct,
      input: r.question,
      output: r.output,
      image: r.image,
      boxes: r.boxes,
      evidence: r.evidence,
    },
    run ? null : annotationOf('eval', r.id),
  );
  // The sample list can be long: bring the opened sample's detail on screen.
  requestAnimationFrame(() => detail.element.scrollIntoView({ block: 'start', behavior: 'auto' }));
}

function openEvalById(id: string, run?: string): void {
  const r = run ? compare.findEval(id, run) : (compare.findEval(id) ?? evalView.findRecord(id));
  if (!r) return;
  showTab('eval');
  openEval(r, run);
}

function openCompare(promptId: string): void {
  state.comparePrompt = promptId;
  host.post({ type: 'compare', promptId });
  showTab('compare');
  save();
}

// --- messages from the extension
host.on('init', (m) => {
  state.runId = m.run.id;
  save();
  runTitle.textContent = m.run.name ?? m.run.id;
  charts.setRun(m.run.id, rewardWeights(m.config));
  if (m.convention) detail.convention = m.convention;
  if (m.maxRows) browser.setMaxRows(m.maxRows);
  detail.setTags(m.tags);
  browser.setTags(m.tags);
  setStatus(m.status);
  browser.requery(state.scrollTop);
  if (state.selected?.kind === 'rollout') selectRollout(state.selected.id, false, state.selected.run);
  if (state.evalCell) evalView.openCell(state.evalCell);
  if (state.comparePrompt) host.post({ type: 'compare', promptId: state.comparePrompt });
  if (state.tab === 'runs') runsView.show();
});
host.on('tags', (m) => {
  detail.setTags(m.tags);
  browser.setTags(m.tags);
});
let lastStatus: PanelStatus | null = null;
function setStatus(s: PanelStatus): void {
  lastStatus = s;
  statusText.textContent = `${s.status} · step ${s.step}/${s.totalSteps} · ${s.phase}${s.message ? ` · ${s.message}` : ''}`;
  statusText.dataset.status = s.status;
  controls.setStatus(s);
  showPace();
}
/** Steps per second over the recent steps and the time left, while the run trains. */
function showPace(): void {
  const p = lastStatus?.status === 'running' ? pace(charts.all, lastStatus.totalSteps) : null;
  paceText.textContent = p
    ? `${p.stepsPerSecond >= 0.1 ? p.stepsPerSecond.toFixed(2) : p.stepsPerSecond.toPrecision(2)} steps/s${p.etaSeconds === null ? '' : ` · ETA ${formatDuration(p.etaSeconds)}`}`
    : '';
}
host.on('status', (m) => setStatus(m.status));
host.on('metrics', (m) => {
  charts.add(m.records, m.reset);
  showPace();
});
host.on('rollout', (m) => {
  if (m.id !== pendingRollout || m.run !== pendingRun) return;
  if (!m.record) {
    showError(`Rollout ${m.id} is not in ${m.run ? `run ${m.run}` : 'this run'}.`);
    return;
  }
  rolloutDetailSlot.append(detail.element);
  detail.show(
    rolloutSubject(m.record, m.evidence ?? [], m.evidenceLabels, m.imageSize, m.run),
    m.run ? null : annotationOf('rollout', m.id),
  );
});
let liveCount = 0;
let liveMessages = 0;
host.on('liveRollouts', (m) => {
  liveMessages++;
  liveCount = m.count;
  const last = m.latest[m.latest.length - 1];
  liveText.textContent = `${m.count.toLocaleString('en-US')} rollouts${last ? ` · latest step ${last.step} ${last.stream} reward ${fmt(last.score, 2)}` : ''}`;
  document.body.dataset.liveCount = String(liveCount);
  document.body.dataset.liveMessages = String(liveMessages);
  browser.liveGrew();
});
host.on('indexProgress', (m) => browser.indexProgress(m));
host.on('evalSummary', (m) => evalView.setRows(m.rows, m.byDataset === true));
host.on('evalSamples', (m) => {
  if (state.selected?.kind === 'eval' && !state.selected.run) {
    const r = m.samples.find((s) => s.id === state.selected!.id);
    if (r && !detail.current) openEval(r);
  }
});
host.on('compare', (m) => {
  compare.show(m.promptId, m.rollouts, m.evals);
});
host.on('compareRuns', (m) => compare.showRuns(m.promptId, m.runs));
host.on('openRunComparison', (m) => {
  showTab('runs');
  runsView.show(m.runs);
});
host.on('annotations', (m) => {
  annotations = m.records;
  detail.annotationChanged(m.records);
  browser.annotationsChanged();
});
host.on('error', (m) => {
  // A Try prompt error is shown in its box, not twice.
  if (!detail.tryBox.showedError(m.requestId)) showError(m.message);
});

fill(errors);
host.post({ type: 'ready', protocol: PROTOCOL_VERSION });
document.body.dataset.ivgr = 'ready';
