// The wizards run against a scripted fake of the quick-pick/input-box API: each answer is taken
// from a queue, and the fake applies the wizard's own validation like VS Code's input box does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configWizard, evalEngineArgs, evalWizard, type PickItem, type Prompter } from '../../src/extension/wizards';

type Answer = { pick: string } | { pickMany: string[] } | { input: string } | 'cancel';

function scripted(answers: Answer[]) {
  const shown: Array<{ kind: string; labels?: string[]; picked?: string[]; rejected?: string }> = [];
  const next = (): Answer => {
    const a = answers.shift();
    if (a === undefined) throw new Error('wizard asked more than the script answers');
    return a;
  };
  const p: Prompter = {
    async pick<T>(_t: string, items: PickItem<T>[]) {
      shown.push({ kind: 'pick', labels: items.map((i) => i.label) });
      const a = next();
      if (a === 'cancel') return undefined;
      if (!('pick' in a)) throw new Error('expected a pick');
      const item = items.find((i) => i.label === a.pick);
      if (!item) throw new Error(`no item ${a.pick}`);
      return item.value;
    },
    async pickMany<T>(_t: string, items: PickItem<T>[]) {
      shown.push({ kind: 'pickMany', labels: items.map((i) => i.label), picked: items.filter((i) => i.picked).map((i) => i.label) });
      const a = next();
      if (a === 'cancel') return undefined;
      if (!('pickMany' in a)) throw new Error('expected pickMany');
      return items.filter((i) => a.pickMany.includes(i.label)).map((i) => i.value);
    },
    async input(_t: string, _prompt: string, value: string, validate: (v: string) => string | null) {
      shown.push({ kind: 'input', labels: [value] });
      for (;;) {
        const a = next();
        if (a === 'cancel') return undefined;
        if (!('input' in a)) throw new Error('expected input');
        const problem = validate(a.input);
        if (problem === null) return a.input;
        shown.push({ kind: 'input', rejected: problem });
      }
    },
  };
  return { p, shown };
}

test('the config wizard collects answers and re-asks on invalid input', async () => {
  const { p, shown } = scripted([
    { input: 'bad name' },
    { input: 'demo' },
    { pick: 'data/vstar' },
    { pick: 'Built-in tiny model' },
    { input: '0' },
    { input: '25' },
    { input: 'cuda:1' },
  ]);
  const r = await configWizard(p, { datasets: ['data/vstar'], models: ['models/qwen'], defaultDevice: 'cpu', defaultName: 'run1' });
  assert.deepEqual(r, { name: 'demo', dataset: 'data/vstar', model: 'builtin:tiny', steps: 25, device: 'cuda:1' });
  assert.deepEqual(
    shown.filter((s) => s.rejected).map((s) => s.rejected),
    ['Use letters, digits, ".", "_" or "-" only.', 'Steps must be between 1 and 1000000.'],
  );
  assert.deepEqual(shown.find((s) => s.kind === 'pick')?.labels, ['Synthetic fine-grained set', 'data/vstar']);
});

test('cancelling any step cancels the wizard', async () => {
  const { p } = scripted([{ input: 'demo' }, { pick: 'Synthetic fine-grained set' }, 'cancel']);
  assert.equal(await configWizard(p, { datasets: [], models: [], defaultDevice: 'cpu', defaultName: 'x' }), undefined);
});

test('the eval wizard offers checkpoints newest first and pre-selects the default modes', async () => {
  const { p, shown } = scripted([{ pick: 'step 20' }, { pick: 'test' }, { pickMany: ['textual', 'tool'] }, { pick: 'PyTorch' }]);
  const r = await evalWizard(p, [10, 20, 30], ['val', 'test'], ['textual', 'grounded']);
  assert.deepEqual(r, { checkpoint: 20, split: 'test', modes: ['textual', 'tool'], engine: 'torch' });
  assert.deepEqual(shown[0]?.labels, ['step 30', 'step 20', 'step 10']);
  assert.deepEqual(shown[2]?.picked, ['textual', 'grounded']);
});

test('the eval wizard asks for the engine, offering the configured default first', async () => {
  const torchFirst = scripted([{ pick: 'step 5' }, { pick: 'val' }, { pickMany: ['grounded'] }, { pick: 'ONNX Runtime' }]);
  assert.deepEqual(await evalWizard(torchFirst.p, [5], ['val'], ['grounded']), {
    checkpoint: 5,
    split: 'val',
    modes: ['grounded'],
    engine: 'ort',
  });
  assert.deepEqual(torchFirst.shown[3]?.labels, ['PyTorch', 'ONNX Runtime']);
  const ortFirst = scripted([{ pick: 'step 5' }, { pick: 'val' }, { pickMany: ['grounded'] }, { pick: 'ONNX Runtime' }]);
  assert.equal((await evalWizard(ortFirst.p, [5], ['val'], ['grounded'], 'ort'))?.engine, 'ort');
  assert.deepEqual(ortFirst.shown[3]?.labels, ['ONNX Runtime', 'PyTorch'], 'the setting decides which engine comes first');
  const cancelled = scripted([{ pick: 'step 5' }, { pick: 'val' }, { pickMany: ['grounded'] }, 'cancel']);
  assert.equal(await evalWizard(cancelled.p, [5], ['val'], ['grounded']), undefined, 'cancelling the engine cancels the evaluation');
});

test('the eval wizard needs a checkpoint and at least one mode', async () => {
  assert.equal(await evalWizard(scripted([]).p, [], ['val'], ['textual']), undefined);
  assert.equal(await evalWizard(scripted([{ pick: 'step 5' }, { pick: 'val' }, { pickMany: [] }]).p, [5], ['val'], ['textual']), undefined);
});

test('the eval worker is launched with the chosen engine, and ONNX Runtime with the configured provider', () => {
  assert.deepEqual(evalEngineArgs('torch', 'cuda'), ['--engine', 'torch']);
  assert.deepEqual(evalEngineArgs('ort', 'cpu'), ['--engine', 'ort', '--provider', 'cpu']);
  assert.deepEqual(evalEngineArgs('ort', 'cuda'), ['--engine', 'ort', '--provider', 'cuda']);
});
