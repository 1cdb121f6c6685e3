import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { loadDataset, resolveInside } from '../../src/data';
import { formatBytes } from '../../src/data/loaders/images';

const tmp = await mkdtemp(join(tmpdir(), 'ivgr-data-load-'));
after(() => rm(tmp, { recursive: true, force: true }));

const png = (width: number, height: number): Promise<Buffer> => sharp({ create: { width, height, channels: 3, background: '#808080' } }).png().toBuffer();
const jpeg = (width: number, height: number): Promise<Buffer> => sharp({ create: { width, height, channels: 3, background: '#406080' } }).jpeg().toBuffer();
const GARBAGE = Buffer.from('this is not an image at all, just text');

describe('resolveInside', () => {
  it('resolves relative paths and refuses escapes', () => {
    assert.equal(resolveInside('/data/set', 'images/a.png'), resolve('/data/set/images/a.png'));
    assert.equal(resolveInside('/data/set', 'images/../b.png'), resolve('/data/set/b.png'));
    assert.throws(() => resolveInside('/data/set', '../x.png'), /path "\.\.\/x\.png" leaves the dataset root/);
    assert.throws(() => resolveInside('/data/set', 'a/../../x.png'), /leaves the dataset root/);
    assert.throws(() => resolveInside('/data/set', '/etc/passwd'), /must be relative to the dataset root, not absolute/);
    assert.throws(() => resolveInside('/data/set', '.'), /leaves the dataset root/);
  });
});

describe('generic JSONL loader', async () => {
  const root = join(tmp, 'jsonl');
  await mkdir(join(root, 'images'), { recursive: true });
  await writeFile(join(root, 'images/ok.png'), await png(64, 48));
  await writeFile(join(root, 'images/ok2.jpg'), await jpeg(40, 30));
  await writeFile(join(root, 'images/corrupt.png'), GARBAGE);
  await writeFile(join(root, 'images/huge.png'), await sharp({ create: { width: 600, height: 600, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).png().toBuffer());
  await writeFile(join(tmp, 'outside.png'), await png(10, 10));
  const good = { id: 'q1', image: 'images/ok.png', question: 'What colour is the cup?', options: ['red', 'blue', 'green', 'white'], answer: 'B', evidence: [[1, 2, 30, 40]], evidenceLabels: ['cup'], family: 'attribute', split: 'test', meta: { source: 'x' } };
  const lines = [
    JSON.stringify(good),
    JSON.stringify({ id: 'q2', image: 'images/ok2.jpg', width: 40, height: 30, question: 'What is written?', answer: 'SALE' }),
    '',
    JSON.stringify({ ...good, id: 'q3', question: undefined }),
    JSON.stringify({ ...good, id: 'q4', evidence: [[30, 2, 10, 40]] }),
    JSON.stringify({ ...good, id: 'q5', image: '../outside.png' }),
    JSON.stringify({ ...good, id: 'q6', image: 'images/missing.png' }),
    JSON.stringify({ ...good, id: 'q7', image: 'images/corrupt.png' }),
    JSON.stringify({ ...good, id: 'q8', image: 'images/huge.png' }),
    '{"id": "q9", broken',
    JSON.stringify({ ...good, id: 'q10', evidence: [[1, 2, 300, 40]] }),
    JSON.stringify({ ...good, id: 'q11', answer: 'E' }),
    JSON.stringify({ ...good, id: 'q12', width: 65 }),
    JSON.stringify({ ...good }),
  ];
  await writeFile(join(root, 'data.jsonl'), lines.join('\n') + '\n');

  it('loads every valid record with every field and skips each broken one with an exact reason', async () => {
    const d = await loadDataset(root, { maxImageBytes: 100_000 });
    assert.equal(d.format, 'jsonl');
    assert.equal(d.root, root);
    assert.deepEqual(d.records, [
      { ...good, width: 64, height: 48 },
      { id: 'q2', image: 'images/ok2.jpg', width: 40, height: 30, question: 'What is written?', answer: 'SALE', evidence: [] },
    ]);
    const huge = (await readFile(join(root, 'images/huge.png'))).length;
    assert.deepEqual(d.skipped, [
      { where: 'data.jsonl:4', reason: 'field "question": expected the question (a non-empty string), got nothing' },
      { where: 'data.jsonl:5', reason: 'field "evidence[0]": expected a box [x1,y1,x2,y2] with x1 <= x2 and y1 <= y2, got [30,2,10,40]' },
      { where: 'data.jsonl:6', reason: 'field "image": expected a path inside the dataset root, got "../outside.png"' },
      { where: 'data.jsonl:7', reason: 'image "images/missing.png" not found' },
      { where: 'data.jsonl:8', reason: d.skipped[4]!.reason },
      { where: 'data.jsonl:9', reason: `image "images/huge.png" is ${formatBytes(huge)}, over the 97.7 KiB limit` },
      { where: 'data.jsonl:10', reason: `not valid JSON (${(() => { try { JSON.parse('{"id": "q9", broken'); return ''; } catch (e) { return (e as Error).message; } })()})` },
      { where: 'data.jsonl:11', reason: 'field "evidence[0]": expected a box inside the 64x48 image, got [1,2,300,40]' },
      { where: 'data.jsonl:12', reason: 'field "answer": expected an option letter A..D, got "E"' },
      { where: 'data.jsonl:13', reason: 'field "width": expected the image\'s size 64x48, got 65' },
      { where: 'data.jsonl:14', reason: 'field "id": expected a unique id (already used at data.jsonl:1), got "q1"' },
    ]);
    assert.match(d.skipped[4]!.reason, /^image "images\/corrupt\.png" cannot be decoded \(.+\)$/);
  });

  it('filters by split and detects the format from the file path', async () => {
    const d = await loadDataset(join(root, 'data.jsonl'), { split: 'test' });
    // Under the default limits the large image loads too.
    assert.deepEqual(d.records.map((r) => r.id), ['q1', 'q8']);
  });

  it('rejects an image over the pixel limit', async () => {
    const d = await loadDataset(root, { maxImagePixels: 100_000 });
    assert.ok(d.skipped.some((s) => s.where === 'data.jsonl:9' && s.reason === 'image "images/huge.png" is 600x600, over the 100000 pixel limit'));
  });
});

describe('V*Bench loader', async () => {
  const root = join(tmp, 'vstar');
  await mkdir(join(root, 'direct_attributes'), { recursive: true });
  await mkdir(join(root, 'relative_position'), { recursive: true });
  const ann = (o: object): string => JSON.stringify(o);
  await writeFile(join(root, 'direct_attributes/sa_1.jpg'), await jpeg(200, 100));
  await writeFile(join(root, 'direct_attributes/sa_1.json'), ann({ target_object: ['cup'], bbox: [[10, 20, 30, 40]], question: 'What is the color of the cup?', options: ['red', 'blue', 'green', 'white'] }));
  await writeFile(join(root, 'direct_attributes/sa_2.jpg'), await jpeg(200, 100));
  await writeFile(join(root, 'direct_attributes/sa_2.json'), ann({ target_object: ['hat'], bbox: [[0, 0, 10, 10]], question: 'What is the color of the hat?', options: ['black', 'white', 'red', 'blue'] }));
  await writeFile(join(root, 'direct_attributes/sa_3.jpg'), await jpeg(50, 50));
  await writeFile(join(root, 'direct_attributes/sa_4.jpg'), await jpeg(50, 50));
  await writeFile(join(root, 'direct_attributes/sa_4.json'), '{ not json');
  await writeFile(join(root, 'relative_position/sa_5.png'), await png(300, 300));
  await writeFile(join(root, 'relative_position/sa_5.json'), ann({ target_object: ['dog', 'car'], bbox: [[10, 10, 20, 20], [200, 10, 20, 20]], question: 'Is the dog on the left or right of the car?', options: ['right', 'left'], answer: 'B' }));
  await writeFile(join(root, 'relative_position/sa_6.png'), await png(300, 300));
  await writeFile(join(root, 'relative_position/sa_6.json'), ann({ target_object: ['a'], bbox: [[10, 10, -5, 20]], question: 'Where?', options: ['left', 'right'] }));
  await writeFile(join(root, 'relative_position/sa_7.png'), GARBAGE);
  await writeFile(join(root, 'relative_position/sa_7.json'), ann({ target_object: ['a'], bbox: [[1, 1, 2, 2]], question: 'Where?', options: ['left', 'right'] }));

  it('loads annotations, converts [x,y,w,h] boxes, balances answer letters and reports broken items', async () => {
    const d = await loadDataset(root);
    assert.equal(d.format, 'vstar');
    assert.deepEqual(d.records, [
      { id: 'direct_attributes/sa_1', image: 'direct_attributes/sa_1.jpg', width: 200, height: 100, question: 'What is the color of the cup?', options: ['red', 'blue', 'green', 'white'], answer: 'A', evidence: [[10, 20, 40, 60]], evidenceLabels: ['cup'], family: 'attribute', meta: { category: 'direct_attributes', targets: 'cup' } },
      { id: 'direct_attributes/sa_2', image: 'direct_attributes/sa_2.jpg', width: 200, height: 100, question: 'What is the color of the hat?', options: ['white', 'black', 'red', 'blue'], answer: 'B', evidence: [[0, 0, 10, 10]], evidenceLabels: ['hat'], family: 'attribute', meta: { category: 'direct_attributes', targets: 'hat' } },
      { id: 'relative_position/sa_5', image: 'relative_position/sa_5.png', width: 300, height: 300, question: 'Is the dog on the left or right of the car?', options: ['left', 'right'], answer: 'A', evidence: [[10, 10, 30, 30], [200, 10, 220, 30]], evidenceLabels: ['dog', 'car'], family: 'position', meta: { category: 'relative_position', targets: 'dog, car' } },
    ]);
    assert.deepEqual(d.skipped.slice(0, 3), [
      { where: 'direct_attributes/sa_3.jpg', reason: 'annotation "direct_attributes/sa_3.json" not found' },
      { where: 'direct_attributes/sa_4.json', reason: d.skipped[1]!.reason },
      { where: 'relative_position/sa_6.json', reason: 'field "bbox[0]": expected a box [x, y, w, h] of 4 numbers with w, h >= 0, got [10,10,-5,20]' },
    ]);
    assert.match(d.skipped[1]!.reason, /^not valid JSON \(/);
    assert.equal(d.skipped[3]!.where, 'relative_position/sa_7.json');
    assert.match(d.skipped[3]!.reason, /^image "relative_position\/sa_7\.png" cannot be decoded/);
    assert.equal(d.skipped.length, 4);
  });
});

describe('HR-Bench loader', async () => {
  const root = join(tmp, 'hr');
  await mkdir(root, { recursive: true });
  const img = (await jpeg(80, 60)).toString('base64');
  const header = ['index', 'question', 'answer', 'category', 'image', 'A', 'B', 'C', 'D'].join('\t');
  const row = (cells: string[]): string => cells.join('\t');
  const tsv = [
    header,
    row(['0', 'What colour is the sign?', 'C', 'single', img, 'red', 'blue', 'green', 'white']),
    row(['1', 'Which text is shown?', 'A', 'cross', '0', 'OPEN', 'SHUT', 'EXIT', 'STOP']),
    row(['2', 'Broken image?', 'A', 'single', Buffer.from('not an image').toString('base64'), 'a', 'b', 'c', 'd']),
    row(['3', 'Bad answer?', 'Z', 'single', img, 'a', 'b', 'c', 'd']),
    row(['4', 'Too big?', 'A', 'single', 'A'.repeat(8000), 'a', 'b', 'c', 'd']),
    row(['5', 'Refers to a missing row', 'A', 'single', '99', 'a', 'b', 'c', 'd']),
  ].join('\r\n');
  await writeFile(join(root, 'hr_bench_4k.tsv'), tsv + '\r\n');

  it('decodes images into a cache next to the TSV and loads every valid row', async () => {
    const d = await loadDataset(join(root, 'hr_bench_4k.tsv'), { maxImageBytes: 5000 });
    assert.equal(d.format, 'hrbench');
    assert.deepEqual(d.records, [
      { id: '0', image: 'hr_bench_4k.tsv.images/0.jpg', width: 80, height: 60, question: 'What colour is the sign?', options: ['red', 'blue', 'green', 'white'], answer: 'C', evidence: [], family: 'other', meta: { category: 'single' } },
      { id: '1', image: 'hr_bench_4k.tsv.images/0.jpg', width: 80, height: 60, question: 'Which text is shown?', options: ['OPEN', 'SHUT', 'EXIT', 'STOP'], answer: 'A', evidence: [], family: 'other', meta: { category: 'cross' } },
    ]);
    assert.deepEqual(await readFile(join(root, 'hr_bench_4k.tsv.images/0.jpg')), Buffer.from(img, 'base64'));
    assert.deepEqual(d.skipped, [
      { where: 'hr_bench_4k.tsv:4', reason: `field "image": expected base64 PNG, JPEG or WebP data, got "${Buffer.from('not an image').toString('base64')}"` },
      { where: 'hr_bench_4k.tsv:5', reason: 'field "answer": expected an option letter A..D, got "Z"' },
      { where: 'hr_bench_4k.tsv:6', reason: 'image of row 4 is 5.9 KiB, over the 4.9 KiB limit' },
      { where: 'hr_bench_4k.tsv:7', reason: 'field "image": expected base64 image data or the index of an earlier row, got "99"' },
    ]);
  });

  it('names the missing columns of a bad header', async () => {
    await writeFile(join(root, 'bad.tsv'), 'index\tquestion\timage\n0\tq\tx\n');
    await assert.rejects(loadDataset(join(root, 'bad.tsv')), /bad\.tsv:1: header must name the columns index, question, answer, A, B, image; missing answer, A, B/);
  });
});

describe('format detection', () => {
  it('names what it expected for an unknown folder', async () => {
    await mkdir(join(tmp, 'empty'), { recursive: true });
    await assert.rejects(loadDataset(join(tmp, 'empty')), /not a recognised dataset; expected a synthetic dataset/);
    await assert.rejects(loadDataset(join(tmp, 'nope')), /dataset not found/);
  });
});
