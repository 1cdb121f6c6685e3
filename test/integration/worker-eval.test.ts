/** Evaluation modes against a scripted engine double; the zoom crop uses sharp on a real image. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ContinueRequest, Engine, GenerateRequest, ModelInfo } from '../../src/engine/engine';
import { bestMatchIou, evaluateMode } from '../../src/worker/evaluate';
import { zoomCrop } from '../../src/worker/zoom';
import { datasetRecord } from '../unit/helpers/records';
import { scratch } from './fixtures/scratch';

const { root: work } = scratch('ivgr-eval-');

const INFO: ModelInfo = { architecture: 'scripted', parameters: 1, imageSize: 64, coordConvention: 'pixels', device: 'cpu' };

async function redSquareImage(dir: string): Promise<string> {
  // 400x300 white image with a red 40x40 square at (300, 20).
  const file = join(dir, 'img.png');
  const red = await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 255, g: 0, b: 0 } } })
    .png()
    .toBuffer();
  await sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([{ input: red, left: 300, top: 20 }])
    .png()
    .toFile(file);
  return file;
}

test('zoomCrop cuts the original image at full resolution and resizes to the model input side', async () => {
  const dir = mkdtempSync(join(work, 'zoom-'));
  const img = await redSquareImage(dir);
  const out = join(dir, 'crop.png');
  assert.deepEqual(await zoomCrop(img, [300, 20, 340, 60], 64, out), { width: 64, height: 64 });
  const { data } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([data[0], data[1], data[2]], [255, 0, 0], 'the crop is the red square');
});

class ToolEngine implements Engine {
  readonly kind = 'torch' as const;
  continued: ContinueRequest[] = [];
  released: string[] = [];
  constructor(private readonly first: string) {}
  async load() {
    return INFO;
  }
  async generate(req: GenerateRequest) {
    return {
      samples: req.prompts.map((p) => ({
        rolloutId: `r${p.id}`,
        promptId: p.id,
        text: this.first,
        promptTokens: 3,
        completionTokens: 9,
        finish: 'stop' as const,
      })),
      seconds: 0,
    };
  }
  async continue(req: ContinueRequest) {
    this.continued.push(req);
    return {
      rolloutId: `${req.rolloutId}+`,
      promptId: '0',
      text: '<think>it is red</think><answer>A</answer>',
      promptTokens: 0,
      completionTokens: 5,
      finish: 'stop' as const,
    };
  }
  async update(): Promise<never> {
    throw new Error('unused');
  }
  async sftStep(): Promise<never> {
    throw new Error('unused');
  }
  async logprobs(): Promise<never> {
    throw new Error('unused');
  }
  async save() {}
  async restore() {
    return { step: 0 };
  }
  async release(ids: string[]) {
    this.released.push(...ids);
  }
  async shutdown() {}
}

test('tool mode follows a zoom call: crop, continue, answer from the last turn, zoomed box scored', async () => {
  const dir = mkdtempSync(join(work, 'tool-'));
  await redSquareImage(dir);
  const record = datasetRecord({
    image: 'img.png',
    width: 400,
    height: 300,
    question: 'What colour is the square?',
    evidence: [[300, 20, 340, 60]],
  });
  const engine = new ToolEngine(
    '<think>look closer</think><tool_call>{"name":"zoom_in","arguments":{"bbox_2d":[300,20,340,60]}}</tool_call>',
  );
  const opts = { checkpoint: 'c', split: 'test', maxTokens: 16, maxToolCalls: 2, seed: 1, workDir: join(dir, 'crops') };
  const [r] = await evaluateMode(engine, INFO, [record], dir, 'tool', opts);
  assert.equal(r!.toolCalls, 1);
  assert.equal(r!.correct, true);
  assert.equal(r!.iou, 1);
  assert.match(r!.output, /zoom_in[\s\S]*Zoomed view of \[300,20,340,60\][\s\S]*<answer>A<\/answer>/);
  assert.equal(engine.continued.length, 1);
  assert.equal((await sharp(engine.continued[0]!.image).metadata()).width, 64);
  assert.deepEqual(engine.released.sort(), ['r0', 'r0+']);
  assert.equal(readdirSync(join(dir, 'crops')).length, 1);

  const textual = await evaluateMode(new ToolEngine('<think>plain</think><answer>B</answer>'), INFO, [record], dir, 'textual', opts);
  assert.equal(textual[0]!.correct, false);
  assert.equal(textual[0]!.iou, null);
  assert.equal(textual[0]!.toolCalls, 0);
});

test('best-match IoU averages over evidence boxes', () => {
  assert.equal(bestMatchIou([], [[0, 0, 10, 10]]), null);
  assert.equal(
    bestMatchIou(
      [[0, 0, 10, 10]],
      [
        [0, 0, 10, 10],
        [20, 20, 30, 30],
      ],
    ),
    0.5,
  );
});
