import { test } from 'node:test';
import assert from 'node:assert/strict';
import { currentAnnotations, MAX_TRY_QUESTION, parseHostMessage, parsePanelMessage } from '../../src/core/protocol/webview';
import { PROTOCOL_VERSION } from '../../src/core/protocol/version';
import type { AnnotationRecord } from '../../src/core/types';
import { panelCsp, panelHtml, makeNonce } from '../../src/extension/panel/panel-html';

test('panel messages are validated with the failing field named', () => {
  const ok = parsePanelMessage({
    type: 'queryRollouts',
    requestId: 3,
    filter: { stream: 'textual', stepMin: 2 },
    sort: { key: 'score', dir: 'desc' },
    offset: 0,
    limit: 100,
  });
  assert.equal(ok.ok, true);
  const bad = parsePanelMessage({
    type: 'queryRollouts',
    requestId: 3,
    filter: { stream: 'visual' },
    sort: { key: 'score', dir: 'desc' },
    offset: 0,
    limit: 100,
  });
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.error : '', /"queryRollouts" invalid at filter\.stream/);
  const tooMany = parsePanelMessage({
    type: 'queryRollouts',
    requestId: 1,
    filter: {},
    sort: { key: 'step', dir: 'asc' },
    offset: 0,
    limit: 5000,
  });
  assert.match(!tooMany.ok ? tooMany.error : '', /limit/);
  assert.match((parsePanelMessage({ type: 'launchMissiles' }) as { error: string }).error, /invalid at type/);
  assert.equal(parsePanelMessage('ready').ok, false);
});

test('host messages are validated: a box must be four finite numbers', () => {
  const size = { width: 10, height: 10 };
  const image = { type: 'image', requestId: 1, path: 'a.png', uri: 'https://x/a.jpg', original: size, served: size };
  assert.equal(parseHostMessage(image).ok, true);
  const annotation = (box: unknown) => ({
    type: 'annotations',
    records: [{ v: 1, target: { kind: 'rollout', id: 'r1' }, tags: [], note: '', correctedBoxes: [box], time: 1 }],
  });
  assert.equal(parseHostMessage(annotation([1, 2, 3, 4])).ok, true);
  const r = parseHostMessage(annotation([1, 2, 3]));
  assert.match(!r.ok ? r.error : '', /records\.0\.correctedBoxes\.0/);
  assert.equal(parseHostMessage(annotation([1, 2, 3, Infinity])).ok, false);
  assert.equal(
    parseHostMessage({
      type: 'init',
      protocol: PROTOCOL_VERSION + 1,
      run: { id: 'x' },
      config: {},
      status: { status: 'running', step: 0, totalSteps: 1, phase: 'idle' },
      tags: [],
    }).ok,
    false,
    'another protocol version is refused',
  );
});

test('the latest annotation per target wins and a withdrawal removes it', () => {
  const rec = (id: string, time: number, extra: Partial<AnnotationRecord> = {}): AnnotationRecord => ({
    v: 1,
    target: { kind: 'rollout', id },
    tags: [`t${time}`],
    note: '',
    correctedBoxes: [],
    time,
    ...extra,
  });
  const cur = currentAnnotations([rec('a', 1), rec('b', 2), rec('a', 3), rec('b', 4, { deleted: true })]);
  assert.deepEqual(
    cur.map((r) => [r.target.id, r.tags[0]]),
    [['a', 't3']],
  );
});

test('panel HTML carries a nonce CSP, no inline script and escapes its inputs', () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9_-]{22}$/);
  assert.notEqual(nonce, makeNonce());
  const html = panelHtml({
    cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
    nonce,
    scriptUri: 'https://r/webview.js',
    styleUri: 'https://r/webview.css',
    title: 'run <x>',
  });
  assert.match(html, new RegExp(`script-src 'nonce-${nonce}'`));
  assert.ok(!html.includes("'unsafe-inline'") && !html.includes("'unsafe-eval'"));
  assert.ok(html.includes('<title>run &lt;x&gt;</title>'));
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  assert.equal(scripts[0]![2], '', 'no inline script body');
  assert.match(scripts[0]![1]!, new RegExp(`nonce="${nonce}"`));
  assert.throws(() => panelHtml({ cspSource: 'x', nonce: 'short', scriptUri: '', styleUri: '', title: '' }), /nonce/);
  assert.throws(
    () => panelHtml({ cspSource: "x; script-src 'unsafe-inline'", nonce, scriptUri: '', styleUri: '', title: '' }),
    /cspSource/,
  );
  assert.match(panelCsp('https://a', nonce), /default-src 'none'/);
  // code-server gives two sources separated by a space; both must reach img-src.
  const twoSources = panelHtml({ cspSource: "'self' https://*.vscode-cdn.net", nonce, scriptUri: '', styleUri: '', title: '' });
  assert.match(twoSources, /img-src 'self' https:\/\/\*\.vscode-cdn\.net data: blob:/);
});

test('a Try prompt request is validated: an image, a non-blank question of bounded length, a known format', () => {
  const ask = (extra: Record<string, unknown>) =>
    parsePanelMessage({
      type: 'tryPrompt',
      requestId: 4,
      image: 'images/q1.png',
      question: 'What colour is the sign?',
      kind: 'grounded',
      ...extra,
    });
  assert.equal(ask({}).ok, true);
  assert.equal(ask({ checkpoint: 12 }).ok, true);
  assert.match(
    (ask({ question: '   \n' }) as { error: string }).error,
    /"tryPrompt" invalid at question: expected a question, got only blanks/,
  );
  assert.match(
    (ask({ question: 'x'.repeat(MAX_TRY_QUESTION + 1) }) as { error: string }).error,
    /invalid at question: expected at most 2000 characters/,
  );
  assert.match((ask({ kind: 'tool' }) as { error: string }).error, /invalid at kind/, 'only the textual and grounded formats');
  assert.match((ask({ image: '' }) as { error: string }).error, /invalid at image/);
  assert.match((ask({ checkpoint: -1 }) as { error: string }).error, /invalid at checkpoint/);
  assert.equal(parsePanelMessage({ type: 'cancelTryPrompt', requestId: 4 }).ok, true);
});

test('a Try prompt result is data the panel checks: boxes, convention, engine', () => {
  const result = {
    engine: 'ort',
    checkpoint: 6,
    kind: 'grounded',
    image: 'images/q1.png',
    imageSize: { width: 640, height: 480 },
    input: 'system: …\nuser: What colour?',
    output: '<think>The sign <box>[10,20,30,40]</box> is red.</think><answer>red</answer>',
    answer: 'red',
    boxes: [[6, 10, 19, 19]],
    convention: 'qwen2-1000',
    promptTokens: 80,
    completionTokens: 21,
    finish: 'stop',
    seconds: 0.4,
  };
  assert.equal(parseHostMessage({ type: 'tryPromptResult', requestId: 4, result }).ok, true);
  assert.match(
    (parseHostMessage({ type: 'tryPromptResult', requestId: 4, result: { ...result, boxes: [[1, 2, 3]] } }) as { error: string }).error,
    /result\.boxes\.0/,
  );
  assert.match(
    (parseHostMessage({ type: 'tryPromptResult', requestId: 4, result: { ...result, engine: 'vllm' } }) as { error: string }).error,
    /result\.engine/,
  );
  assert.equal(parseHostMessage({ type: 'tryPromptProgress', requestId: 4, message: 'Exporting…' }).ok, true);
  assert.equal(parseHostMessage({ type: 'checkpoints', steps: [2, 4] }).ok, true);
  assert.equal(parseHostMessage({ type: 'checkpoints', steps: [2.5] }).ok, false);
});

test('evaluation sample requests may name the engine that produced them', () => {
  assert.equal(parsePanelMessage({ type: 'evalSamples', requestId: 1, checkpoint: 'step-6', mode: 'textual', engine: 'ort' }).ok, true);
  assert.equal(
    parsePanelMessage({ type: 'evalSamples', requestId: 1, checkpoint: 'step-6', mode: 'textual' }).ok,
    true,
    'without one: every engine',
  );
  assert.match(
    (parsePanelMessage({ type: 'evalSamples', requestId: 1, checkpoint: 'step-6', mode: 'textual', engine: 'tf' }) as { error: string })
      .error,
    /invalid at engine/,
  );
});

test('the same question in other runs is validated on both sides, with the failing field named', () => {
  assert.equal(parsePanelMessage({ type: 'getRollout', id: 'r1', run: 'run-b' }).ok, true);
  assert.match((parsePanelMessage({ type: 'getRollout', id: 'r1', run: '' }) as { error: string }).error, /"getRollout" invalid at run/);
  const other = { run: { id: 'run-b', name: 'run B' }, total: 8, step: 5, rollouts: [], evals: [] };
  assert.equal(
    parseHostMessage({
      type: 'compareRuns',
      promptId: 'q1',
      runs: [other, { ...other, run: { id: 'run-c' }, step: null, error: 'unreadable' }],
    }).ok,
    true,
  );
  const bad = parseHostMessage({ type: 'compareRuns', promptId: 'q1', runs: [{ ...other, rollouts: [{ id: 'x' }] }] });
  assert.match(!bad.ok ? bad.error : '', /"compareRuns" invalid at runs\.0\.rollouts\.0\./);
  assert.match(
    (parseHostMessage({ type: 'compareRuns', promptId: 'q1', runs: [{ ...other, total: -1 }] }) as { error: string }).error,
    /runs\.0\.total/,
  );
});
