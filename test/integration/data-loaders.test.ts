import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { loadDataset, resolveInside } from '../../src/data';
import { formatBytes } from '../../src/data/loaders/images';

const tmp = await mkdtemp(join(tmpdir(), 'ivgr-data-load-'));
after(() => rm(tmp, { recursive: true, force: true }));

const png = (width: number, height: number): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
const jpeg = (width: number, height: number): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: '#406080' } })
    .jpeg()
    .toBuffer();
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

  it('refuses a symbolic link inside the root that leads outside it', async () => {
    const root = join(tmp, 'resolve');
    await mkdir(root, { recursive: true });
    await writeFile(join(tmp, 'secret.txt'), 'outside');
    await symlink(join(tmp, 'secret.txt'), join(root, 'link.txt'));
    const target = await realpath(join(tmp, 'secret.txt'));
    assert.throws(() => resolveInside(root, 'link.txt'), {
      message: `path "link.txt" leaves the dataset root through a symbolic link to "${target}"`,
    });
  });
});

describe('generic JSONL loader', async () => {
  const root = join(tmp, 'jsonl');
  await mkdir(join(root, 'images'), { recursive: true });
  await writeFile(join(root, 'images/ok.png'), await png(64, 48));
  await writeFile(join(root, 'images/ok2.jpg'), await jpeg(40, 30));
  await writeFile(join(root, 'images/corrupt.png'), GARBAGE);
  await writeFile(
    join(root, 'images/huge.png'),
    await sharp({ create: { width: 600, height: 600, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
      .png()
      .toBuffer(),
  );
  await writeFile(join(tmp, 'outside.png'), await png(10, 10));
  const good = {
    id: 'q1',
    image: 'images/ok.png',
    question: 'What colour is the cup?',
    options: ['red', 'blue', 'green', 'white'],
    answer: 'B',
    evidence: [[1, 2, 30, 40]],
    evidenceLabels: ['cup'],
    family: 'attribute',
    split: 'test',
    meta: { source: 'x' },
  };
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
      {
        where: 'data.jsonl:10',
        reason: `not valid JSON (${(() => {
          try {
            JSON.parse('{"id": "q9", broken');
            return '';
          } catch (e) {
            return (e as Error).message;
          }
        })()})`,
      },
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
    assert.deepEqual(
      d.records.map((r) => r.id),
      ['q1', 'q8'],
    );
  });

  it('rejects an image over the pixel limit', async () => {
    const d = await loadDataset(root, { maxImagePixels: 100_000 });
    assert.ok(
      d.skipped.some((s) => s.where === 'data.jsonl:9' && s.reason === 'image "images/huge.png" is 600x600, over the 100000 pixel limit'),
    );
  });
});

describe('V*Bench loader', async () => {
  const root = join(tmp, 'vstar');
  await mkdir(join(root, 'direct_attributes'), { recursive: true });
  await mkdir(join(root, 'relative_position'), { recursive: true });
  const ann = (o: object): string => JSON.stringify(o);
  await writeFile(join(root, 'direct_attributes/sa_1.jpg'), await jpeg(200, 100));
  await writeFile(
    join(root, 'direct_attributes/sa_1.json'),
    ann({
      target_object: ['cup'],
      bbox: [[10, 20, 30, 40]],
      question: 'What is the color of the cup?',
      options: ['red', 'blue', 'green', 'white'],
    }),
  );
  await writeFile(join(root, 'direct_attributes/sa_2.jpg'), await jpeg(200, 100));
  await writeFile(
    join(root, 'direct_attributes/sa_2.json'),
    ann({
      target_object: ['hat'],
      bbox: [[0, 0, 10, 10]],
      question: 'What is the color of the hat?',
      options: ['black', 'white', 'red', 'blue'],
    }),
  );
  await writeFile(join(root, 'direct_attributes/sa_3.jpg'), await jpeg(50, 50));
  await writeFile(join(root, 'direct_attributes/sa_4.jpg'), await jpeg(50, 50));
  await writeFile(join(root, 'direct_attributes/sa_4.json'), '{ not json');
  await writeFile(join(root, 'relative_position/sa_5.png'), await png(300, 300));
  await writeFile(
    join(root, 'relative_position/sa_5.json'),
    ann({
      target_object: ['dog', 'car'],
      bbox: [
        [10, 10, 20, 20],
        [200, 10, 20, 20],
      ],
      question: 'Is the dog on the left or right of the car?',
      options: ['right', 'left'],
      answer: 'B',
    }),
  );
  await writeFile(join(root, 'relative_position/sa_6.png'), await png(300, 300));
  await writeFile(
    join(root, 'relative_position/sa_6.json'),
    ann({ target_object: ['a'], bbox: [[10, 10, -5, 20]], question: 'Where?', options: ['left', 'right'] }),
  );
  await writeFile(join(root, 'relative_position/sa_7.png'), GARBAGE);
  await writeFile(
    join(root, 'relative_position/sa_7.json'),
    ann({ target_object: ['a'], bbox: [[1, 1, 2, 2]], question: 'Where?', options: ['left', 'right'] }),
  );

  it('loads annotations, converts [x,y,w,h] boxes, balances answer letters and reports broken items', async () => {
    const d = await loadDataset(root);
    assert.equal(d.format, 'vstar');
    assert.deepEqual(d.records, [
      {
        id: 'direct_attributes/sa_1',
        image: 'direct_attributes/sa_1.jpg',
        width: 200,
        height: 100,
        question: 'What is the color of the cup?',
        options: ['red', 'blue', 'green', 'white'],
        answer: 'A',
        evidence: [[10, 20, 40, 60]],
        evidenceLabels: ['cup'],
        family: 'attribute',
        meta: { category: 'direct_attributes', targets: 'cup' },
      },
      {
        id: 'direct_attributes/sa_2',
        image: 'direct_attributes/sa_2.jpg',
        width: 200,
        height: 100,
        question: 'What is the color of the hat?',
        options: ['white', 'black', 'red', 'blue'],
        answer: 'B',
        evidence: [[0, 0, 10, 10]],
        evidenceLabels: ['hat'],
        family: 'attribute',
        meta: { category: 'direct_attributes', targets: 'hat' },
      },
      {
        id: 'relative_position/sa_5',
        image: 'relative_position/sa_5.png',
        width: 300,
        height: 300,
        question: 'Is the dog on the left or right of the car?',
        options: ['left', 'right'],
        answer: 'A',
        evidence: [
          [10, 10, 30, 30],
          [200, 10, 220, 30],
        ],
        evidenceLabels: ['dog', 'car'],
        family: 'position',
        meta: { category: 'relative_position', targets: 'dog, car' },
      },
    ]);
    assert.deepEqual(d.skipped.slice(0, 3), [
      { where: 'direct_attributes/sa_3.jpg', reason: 'annotation "direct_attributes/sa_3.json" not found' },
      { where: 'direct_attributes/sa_4.json', reason: d.skipped[1]!.reason },
      {
        where: 'relative_position/sa_6.json',
        reason: 'field "bbox[0]": expected a box [x, y, w, h] of 4 numbers with w, h >= 0, got [10,10,-5,20]',
      },
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
      {
        id: '0',
        image: 'hr_bench_4k.tsv.images/0.jpg',
        width: 80,
        height: 60,
        question: 'What colour is the sign?',
        options: ['red', 'blue', 'green', 'white'],
        answer: 'C',
        evidence: [],
        family: 'other',
        meta: { category: 'single' },
      },
      {
        id: '1',
        image: 'hr_bench_4k.tsv.images/0.jpg',
        width: 80,
        height: 60,
        question: 'Which text is shown?',
        options: ['OPEN', 'SHUT', 'EXIT', 'STOP'],
        answer: 'A',
        evidence: [],
        family: 'other',
        meta: { category: 'cross' },
      },
    ]);
    assert.deepEqual(await readFile(join(root, 'hr_bench_4k.tsv.images/0.jpg')), Buffer.from(img, 'base64'));
    assert.deepEqual(d.skipped, [
      {
        where: 'hr_bench_4k.tsv:4',
        reason: `field "image": expected base64 PNG, JPEG or WebP data, got "${Buffer.from('not an image').toString('base64')}"`,
      },
      { where: 'hr_bench_4k.tsv:5', reason: 'field "answer": expected an option letter A..D, got "Z"' },
      { where: 'hr_bench_4k.tsv:6', reason: 'image of row 4 is 5.9 KiB, over the 4.9 KiB limit' },
      { where: 'hr_bench_4k.tsv:7', reason: 'field "image": expected base64 image data or the index of an earlier row, got "99"' },
    ]);
  });

  it('names the missing columns of a bad header', async () => {
    await writeFile(join(root, 'bad.tsv'), 'index\tquestion\timage\n0\tq\tx\n');
    await assert.rejects(
      loadDataset(join(root, 'bad.tsv')),
      /bad\.tsv:1: header must name the columns index, question, answer, A, B, image; missing answer, A, B/,
    );
  });
});

describe('format detection', () => {
  it('names what it expected for an unknown folder', async () => {
    await mkdir(join(tmp, 'empty'), { recursive: true });
    await assert.rejects(loadDataset(join(tmp, 'empty')), /not a recognised dataset; expected a synthetic dataset/);
    await assert.rejects(loadDataset(join(tmp, 'nope')), /dataset not found/);
  });
});

describe('truncated images', async () => {
  const root = join(tmp, 'truncated');
  await mkdir(join(root, 'images'), { recursive: true });
  const noise = { type: 'gaussian' as const, mean: 128, sigma: 40 };
  const fullPng = await sharp({ create: { width: 120, height: 90, channels: 3, background: '#000', noise } })
    .png()
    .toBuffer();
  const fullJpeg = await sharp({ create: { width: 120, height: 90, channels: 3, background: '#000', noise } })
    .jpeg()
    .toBuffer();
  await writeFile(join(root, 'images/whole.png'), fullPng);
  await writeFile(join(root, 'images/whole.jpg'), fullJpeg);
  // Cut after the header: width and height still read, the pixels are gone.
  await writeFile(join(root, 'images/cut.png'), fullPng.subarray(0, fullPng.length >> 1));
  await writeFile(join(root, 'images/cut.jpg'), fullJpeg.subarray(0, fullJpeg.length >> 1));
  // Bytes after the end marker (as some cameras append) do not make an image broken.
  await writeFile(join(root, 'images/trailer.jpg'), Buffer.concat([fullJpeg, Buffer.from('trailing camera data')]));
  const rec = (id: string, image: string): string => JSON.stringify({ id, image, question: 'What is shown?', answer: 'noise' });
  await writeFile(
    join(root, 'data.jsonl'),
    [
      rec('a', 'images/whole.png'),
      rec('b', 'images/cut.png'),
      rec('c', 'images/whole.jpg'),
      rec('d', 'images/cut.jpg'),
      rec('e', 'images/trailer.jpg'),
    ].join('\n'),
  );

  it('skips a PNG or JPEG cut short after a valid header, naming the record, and loads whole ones', async () => {
    assert.deepEqual((await sharp(join(root, 'images/cut.png')).metadata()).width, 120, 'the header alone looks fine');
    const d = await loadDataset(root);
    assert.deepEqual(
      d.records.map((r) => [r.id, r.width, r.height]),
      [
        ['a', 120, 90],
        ['c', 120, 90],
        ['e', 120, 90],
      ],
    );
    assert.deepEqual(
      d.skipped.map((s) => s.where),
      ['data.jsonl:2', 'data.jsonl:4'],
    );
    assert.match(d.skipped[0]!.reason, /^image "images\/cut\.png" is truncated or corrupt \(.+\)$/);
    assert.match(d.skipped[1]!.reason, /^image "images\/cut\.jpg" is truncated or corrupt \(.+\)$/);
  });
});

describe('symbolic links in a dataset', async () => {
  const outside = join(tmp, 'elsewhere');
  const real = join(tmp, 'linked-real');
  await mkdir(outside, { recursive: true });
  await mkdir(join(real, 'images'), { recursive: true });
  await writeFile(join(outside, 'x.png'), await png(20, 20));
  await writeFile(join(real, 'images/ok.png'), await png(20, 20));
  await symlink(join(outside, 'x.png'), join(real, 'images/out.png'));
  await symlink(outside, join(real, 'images/ext'));
  await symlink('ok.png', join(real, 'images/alias.png'));
  // The dataset folder itself reached through a link is fine.
  await symlink(real, join(tmp, 'linked'));
  const rec = (id: string, image: string): string => JSON.stringify({ id, image, question: 'What is shown?', answer: 'grey' });
  await writeFile(
    join(real, 'data.jsonl'),
    [rec('ok', 'images/ok.png'), rec('out', 'images/out.png'), rec('dir', 'images/ext/x.png'), rec('alias', 'images/alias.png')].join('\n'),
  );

  it('skips records whose image path leads outside the root through a link, naming line, field and target', async () => {
    const d = await loadDataset(join(tmp, 'linked'));
    assert.deepEqual(
      d.records.map((r) => r.id),
      ['ok', 'alias'],
    );
    const target = await realpath(join(outside, 'x.png'));
    assert.deepEqual(d.skipped, [
      {
        where: 'data.jsonl:2',
        reason: `field "image": expected a path inside the dataset root, got "images/out.png" (a symbolic link to "${target}")`,
      },
      {
        where: 'data.jsonl:3',
        reason: `field "image": expected a path inside the dataset root, got "images/ext/x.png" (a symbolic link to "${target}")`,
      },
    ]);
  });
});

describe('HR-Bench in a folder that cannot be written', async () => {
  const root = join(tmp, 'hr-readonly');
  await mkdir(root, { recursive: true });
  const img = (await jpeg(32, 24)).toString('base64');
  const tsv = join(root, 'hr.tsv');
  await writeFile(tsv, ['index\tquestion\tanswer\tA\tB\timage', `7\tWhat colour?\tA\tblue\tred\t${img}`].join('\n') + '\n');
  // Running as root ignores permission bits, so the folder for the decoded images is blocked by a file instead.
  await writeFile(join(root, 'hr.tsv.images'), 'not a folder');
  const roots: string[] = [];
  after(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

  it('decodes into a cache folder outside the dataset, reused until the TSV changes', async () => {
    const d = await loadDataset(tsv);
    roots.push(d.root);
    assert.deepEqual(d.skipped, []);
    assert.deepEqual(
      d.records.map((r) => [r.id, r.image, r.width, r.height]),
      [['7', 'hr.tsv.images/7.jpg', 32, 24]],
    );
    assert.ok(d.root.startsWith(join(tmpdir(), 'ivgr-hrbench-cache')), d.root);
    assert.deepEqual(await readFile(join(d.root, 'hr.tsv.images/7.jpg')), Buffer.from(img, 'base64'));
    assert.equal(await readFile(join(root, 'hr.tsv.images'), 'utf8'), 'not a folder', 'the dataset folder is left as it was');
    const decoded = (await stat(join(d.root, 'hr.tsv.images/7.jpg'))).mtimeMs;
    const again = await loadDataset(tsv);
    assert.equal(again.root, d.root);
    assert.equal((await stat(join(d.root, 'hr.tsv.images/7.jpg'))).mtimeMs, decoded, 'decoded once');
    await utimes(tsv, new Date(), new Date(Date.now() + 5000));
    const edited = await loadDataset(tsv);
    roots.push(edited.root);
    assert.notEqual(edited.root, d.root);
    assert.equal(edited.records.length, 1);
  });
});

describe('error messages name the file, line and field', async () => {
  const vstar = join(tmp, 'vstar-bad');
  await mkdir(join(vstar, 'direct_attributes'), { recursive: true });
  const item = async (stem: string, ann: string): Promise<void> => {
    await writeFile(join(vstar, `direct_attributes/${stem}.jpg`), await jpeg(40, 40));
    await writeFile(join(vstar, `direct_attributes/${stem}.json`), ann);
  };
  await item('v1', JSON.stringify({ question: 'Colour?', options: ['red'] }));
  await item('v2', JSON.stringify({ question: 'Colour?', options: 'red, blue' }));
  await item('v3', JSON.stringify({ question: 'Colour?', options: ['red', 'blue'], answer: 'C' }));
  await item('v4', JSON.stringify({ question: 'Colour?', options: ['red', 'blue'], answer: 2 }));
  await item('v5', JSON.stringify({ question: 'Colour?', options: ['red', 'blue'], bbox: '1,2,3,4' }));
  await item('v6', '[1, 2]');

  it('V*Bench: options, answer, bbox not a list, not a JSON object', async () => {
    const d = await loadDataset(vstar);
    assert.deepEqual(d.records, []);
    assert.deepEqual(d.skipped, [
      { where: 'direct_attributes/v1.json', reason: 'field "options": expected a list of at least 2 option texts, got ["red"]' },
      { where: 'direct_attributes/v2.json', reason: 'field "options": expected a list of at least 2 option texts, got "red, blue"' },
      { where: 'direct_attributes/v3.json', reason: 'field "answer": expected an option letter A..B, got "C"' },
      { where: 'direct_attributes/v4.json', reason: 'field "answer": expected an option letter A..B, got 2' },
      { where: 'direct_attributes/v5.json', reason: 'field "bbox": expected a list of boxes [x, y, w, h], got "1,2,3,4"' },
      { where: 'direct_attributes/v6.json', reason: 'expected a JSON object, got [1,2]' },
    ]);
  });

  const hr = join(tmp, 'hr-bad');
  await mkdir(hr, { recursive: true });
  const img = (await jpeg(16, 16)).toString('base64');
  await writeFile(
    join(hr, 'rows.tsv'),
    [
      'index\tquestion\tanswer\tA\tB\timage',
      `0\tOk?\tA\tyes\tno\t${img}`,
      `\tNo index?\tA\tyes\tno\t${img}`,
      ` \tBlank index?\tB\tyes\tno\t${img}`,
    ].join('\n'),
  );
  await writeFile(join(hr, 'empty.tsv'), '\n\n');

  it('HR-Bench: a row without an index, an empty file', async () => {
    const d = await loadDataset(join(hr, 'rows.tsv'));
    assert.deepEqual(
      d.records.map((r) => r.id),
      ['0'],
    );
    assert.deepEqual(d.skipped, [
      { where: 'rows.tsv:3', reason: 'field "index": expected a row index, got nothing' },
      { where: 'rows.tsv:4', reason: 'field "index": expected a row index, got " "' },
    ]);
    await assert.rejects(loadDataset(join(hr, 'empty.tsv')), {
      message: 'empty.tsv: empty file; expected a header row naming index, question, answer, A, B, image',
    });
  });

  const schema = join(tmp, 'schema');
  await mkdir(schema, { recursive: true });
  const ok = { id: 's', image: 'none.png', question: 'Which?', answer: 'A', options: ['a', 'b'] };
  const letters = 'abcdefghijk'.split('');
  await writeFile(
    join(schema, 'records.jsonl'),
    [
      { ...ok, id: 's1', options: ['a'] },
      { ...ok, id: 's2', options: letters },
      { ...ok, id: 's3', evidence: [[1, 1, 5, 5]], evidenceLabels: ['cup', 'hat'] },
      { ...ok, id: 's4', evidence: [[1, 1, 5, 5]], evidenceLabels: [] },
      { ...ok, id: 's5', family: 'colour' },
      ['not', 'an', 'object'],
    ]
      .map((v) => JSON.stringify(v))
      .join('\n'),
  );

  it('record schema: option count limits, evidence-label count, the family enum, not an object', async () => {
    const d = await loadDataset(schema);
    assert.deepEqual(d.skipped, [
      { where: 'records.jsonl:1', reason: 'field "options": expected at least 2 options, got ["a"]' },
      {
        where: 'records.jsonl:2',
        reason: 'field "options": expected at most 10 options, got ["a","b","c","d","e","f","g","h","i","j","k"]',
      },
      { where: 'records.jsonl:3', reason: 'field "evidenceLabels": expected one label per evidence box (1), got ["cup","hat"]' },
      { where: 'records.jsonl:4', reason: 'field "evidenceLabels": expected one label per evidence box (1), got []' },
      { where: 'records.jsonl:5', reason: 'field "family": expected one of attribute, text, position, count, other, got "colour"' },
      { where: 'records.jsonl:6', reason: 'field "(record)": expected a JSON object, got ["not","an","object"]' },
    ]);
  });

  it('loader: a folder without exactly one file of the format', async () => {
    const two = join(tmp, 'two-jsonl');
    await mkdir(two, { recursive: true });
    await writeFile(join(two, 'a.jsonl'), '');
    await writeFile(join(two, 'b.jsonl'), '');
    await assert.rejects(loadDataset(two, { format: 'jsonl' }), { message: `${two}: expected exactly one .jsonl file for format jsonl` });
    await assert.rejects(loadDataset(two, { format: 'hrbench' }), { message: `${two}: expected exactly one .tsv file for format hrbench` });
  });
});
