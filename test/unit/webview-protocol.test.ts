import { test } from 'node:test';
import assert from 'node:assert/strict';
import { currentAnnotations, parseHostMessage, parsePanelMessage } from '../../src/core/protocol/webview';
import { PROTOCOL_VERSION } from '../../src/core/protocol/version';
import type { AnnotationRecord } from '../../src/core/types';
import { panelCsp, panelHtml, makeNonce } from '../../src/extension/panel-html';

test('panel messages are validated with the failing field named', () => {
  const ok = parsePanelMessage({ type: 'queryRollouts', requestId: 3, filter: { stream: 'textual', stepMin: 2 }, sort: { key: 'score', dir: 'desc' }, offset: 0, limit: 100 });
  assert.equal(ok.ok, true);
  const bad = parsePanelMessage({ type: 'queryRollouts', requestId: 3, filter: { stream: 'visual' }, sort: { key: 'score', dir: 'desc' }, offset: 0, limit: 100 });
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.error : '', /"queryRollouts" invalid at filter\.stream/);
  const tooMany = parsePanelMessage({ type: 'queryRollouts', requestId: 1, filter: {}, sort: { key: 'step', dir: 'asc' }, offset: 0, limit: 5000 });
  assert.match(!tooMany.ok ? tooMany.error : '', /limit/);
  assert.match((parsePanelMessage({ type: 'launchMissiles' }) as { error: string }).error, /invalid at type/);
  assert.equal(parsePanelMessage('ready').ok, false);
});

test('host messages are validated: a box must be four finite numbers', () => {
  const image = { type: 'image', requestId: 1, path: 'a.png', uri: 'https://x/a.jpg', original: { width: 10, height: 10 }, served: { width: 10, height: 10 } };
  assert.equal(parseHostMessage(image).ok, true);
  const annotation = (box: unknown) => ({ type: 'annotations', records: [{ v: 1, target: { kind: 'rollout', id: 'r1' }, tags: [], note: '', correctedBoxes: [box], time: 1 }] });
  assert.equal(parseHostMessage(annotation([1, 2, 3, 4])).ok, true);
  const r = parseHostMessage(annotation([1, 2, 3]));
  assert.match(!r.ok ? r.error : '', /records\.0\.correctedBoxes\.0/);
  assert.equal(parseHostMessage(annotation([1, 2, 3, Infinity])).ok, false);
  assert.equal(parseHostMessage({ type: 'init', protocol: PROTOCOL_VERSION + 1, run: { id: 'x' }, config: {}, status: { status: 'running', step: 0, totalSteps: 1, phase: 'idle' }, tags: [] }).ok, false, 'another protocol version is refused');
});

test('the latest annotation per target wins and a withdrawal removes it', () => {
  const rec = (id: string, time: number, extra: Partial<AnnotationRecord> = {}): AnnotationRecord => ({ v: 1, target: { kind: 'rollout', id }, tags: [`t${time}`], note: '', correctedBoxes: [], time, ...extra });
  const cur = currentAnnotations([rec('a', 1), rec('b', 2), rec('a', 3), rec('b', 4, { deleted: true })]);
  assert.deepEqual(cur.map((r) => [r.target.id, r.tags[0]]), [['a', 't3']]);
});

test('panel HTML carries a nonce CSP, no inline script and escapes its inputs', () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9_-]{22}$/);
  assert.notEqual(nonce, makeNonce());
  const html = panelHtml({ cspSource: 'https://file+.vscode-resource.vscode-cdn.net', nonce, scriptUri: 'https://r/webview.js', styleUri: 'https://r/webview.css', title: 'run <x>' });
  assert.match(html, new RegExp(`script-src 'nonce-${nonce}'`));
  assert.ok(!html.includes("'unsafe-inline'") && !html.includes("'unsafe-eval'"));
  assert.ok(html.includes('<title>run &lt;x&gt;</title>'));
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  assert.equal(scripts[0]![2], '', 'no inline script body');
  assert.match(scripts[0]![1]!, new RegExp(`nonce="${nonce}"`));
  assert.throws(() => panelHtml({ cspSource: 'x', nonce: 'short', scriptUri: '', styleUri: '', title: '' }), /nonce/);
  assert.throws(() => panelHtml({ cspSource: "x; script-src 'unsafe-inline'", nonce, scriptUri: '', styleUri: '', title: '' }), /cspSource/);
  assert.match(panelCsp('https://a', nonce), /default-src 'none'/);
  // code-server gives two sources separated by a space; both must reach img-src.
  const twoSources = panelHtml({ cspSource: "'self' https://*.vscode-cdn.net", nonce, scriptUri: '', styleUri: '', title: '' });
  assert.match(twoSources, /img-src 'self' https:\/\/\*\.vscode-cdn\.net data: blob:/);
});
