/**
 * The torch engine client against a fake engine process (test/integration/fixtures/fake-engine.mjs,
 * no Python or torch): the protocol version check, results that break the schema, per-call
 * timeouts and a Python that cannot be started.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ENGINE_PROTOCOL_VERSION } from '../../src/core/protocol/version';
import type { ModelInfo } from '../../src/engine/engine';
import { createTorchEngine, EngineError, type TorchEngine } from '../../src/engine/torch';

const work = mkdtempSync(join(tmpdir(), 'ivgr-engine-client-'));
// Stands in for the Python interpreter: the client runs `<python> -m ivgr_engine`, this runs the fake.
const fakePython = join(work, 'fake-python');
const INFO: ModelInfo = { architecture: 'Fake', parameters: 3, imageSize: 64, coordConvention: 'pixels', device: 'cpu' };
const started: TorchEngine[] = [];

function fake(results: Record<string, unknown>, opts: { timeoutMs?: number; log?: (line: string) => void } = {}): TorchEngine {
  const engine = createTorchEngine({
    python: fakePython,
    env: { FAKE_ENGINE_RESULTS: JSON.stringify(results) },
    log: opts.log ?? (() => undefined),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });
  started.push(engine);
  return engine;
}

const isEngineError = (kind: EngineError['kind'], pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof EngineError, `expected an EngineError, got ${String(e)}`);
  assert.equal(e.kind, kind, e.message);
  assert.match(e.message, pattern);
  return true;
};

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return check();
}

const generate = {
  prompts: [{ id: 'p', images: [], messages: [{ role: 'user' as const, text: 'hi' }] }],
  n: 1,
  temperature: 1,
  maxTokens: 4,
  seed: 0,
  keep: false,
};

before(() => {
  const script = resolve('test/integration/fixtures/fake-engine.mjs');
  writeFileSync(fakePython, `#!/bin/sh\nexec "${process.execPath}" "${script}"\n`, { mode: 0o755 });
});

after(async () => {
  await Promise.all(started.map((e) => e.shutdown()));
  rmSync(work, { recursive: true, force: true });
});

describe('torch engine client: protocol version', () => {
  it('accepts an engine that speaks its protocol and returns the model info alone', async () => {
    const engine = fake({ load: { ...INFO, protocol: ENGINE_PROTOCOL_VERSION } });
    assert.deepEqual(await engine.load({ model: 'm' }), INFO);
  });

  it('refuses another protocol version, naming both and what to do', async () => {
    const engine = fake({ load: { ...INFO, protocol: ENGINE_PROTOCOL_VERSION + 1 } });
    await assert.rejects(
      engine.load({ model: 'm' }),
      isEngineError(
        'protocol',
        new RegExp(
          `speaks engine protocol ${ENGINE_PROTOCOL_VERSION + 1} but this client speaks engine protocol ${ENGINE_PROTOCOL_VERSION};.*reinstall or update iVGR Studio so that python/ivgr_engine`,
        ),
      ),
    );
  });

  it('refuses an engine that reports no version', async () => {
    const engine = fake({ load: INFO });
    await assert.rejects(engine.load({ model: 'm' }), isEngineError('protocol', /reports no engine protocol version/));
  });
});

describe('torch engine client: results, timeouts, spawn', () => {
  it('rejects a result that does not match the schema, naming the field', async () => {
    const sample = { rolloutId: 'r', promptId: 'p', text: 'x', promptTokens: -1, completionTokens: 1, finish: 'stop' };
    const engine = fake({ generate: { samples: [sample], seconds: 0.1 } });
    await assert.rejects(
      engine.generate(generate),
      isEngineError('protocol', /^engine generate: unexpected result at samples\.0\.promptTokens: /),
    );
  });

  it('times a call out, cancels it in the engine, and keeps serving', async () => {
    const logs: string[] = [];
    const engine = fake({ generate: 'hang', release: { released: 1 } }, { timeoutMs: 10_000, log: (l) => logs.push(l) });
    const t0 = Date.now();
    await assert.rejects(
      engine.generate(generate, { timeoutMs: 300 }),
      isEngineError('timeout', /^engine generate: no answer within 300 ms; the request was cancelled/),
    );
    assert.ok(Date.now() - t0 < 5_000, 'the per-call timeout overrides the default');
    assert.ok(
      await until(() => logs.includes('fake engine: generate cancelled'), 5_000),
      `the engine saw no cancellation; log: ${logs.join(' | ')}`,
    );
    await engine.release(['r']);
    assert.ok(engine.alive);
  });

  it('reports a Python that cannot be started, with how to get one', async () => {
    const missing = join(work, 'no-such-python');
    const engine = createTorchEngine({ python: missing, log: () => undefined });
    started.push(engine);
    const failed = isEngineError(
      'spawn',
      /cannot start the engine with .*no-such-python: .*ENOENT.*node scripts\/setup-python\.mjs.*IVGR_PYTHON/,
    );
    await assert.rejects(engine.load({ model: 'm' }), failed);
    await assert.rejects(engine.generate(generate), failed);
    assert.equal(engine.alive, false);
  });
});
