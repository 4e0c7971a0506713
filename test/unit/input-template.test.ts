import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { OptionError } from '../../src/errors.ts';
import { jobKey, openInput, readJobs, validateInput, type InputOptions } from '../../src/input/index.ts';
import { DEFAULT_MODEL } from '../../src/models/index.ts';
import { all, scratchFolder } from '../helpers/files.ts';

const scratch = scratchFolder('ib-input-tpl-');
const file = scratch.file;

describe('templates', () => {
  test('{column} from CSV rows and {a|b} alternatives expand to the cross product, first group slowest', async () => {
    const p = await file('vars.csv', 'animal,place\nfox,forest\nowl,"barn, old"\n');
    const jobs = await all(readJobs(p, { template: 'a {animal} in the {place}, {ink|oil} {day|night} {{literal}}' }));
    assert.deepEqual(jobs.map((j) => [j.index, j.prompt, j.source?.line]), [
      [0, 'a fox in the forest, ink day {literal}', 2],
      [1, 'a fox in the forest, ink night {literal}', 2],
      [2, 'a fox in the forest, oil day {literal}', 2],
      [3, 'a fox in the forest, oil night {literal}', 2],
      [4, 'a owl in the barn, old, ink day {literal}', 3],
      [5, 'a owl in the barn, old, ink night {literal}', 3],
      [6, 'a owl in the barn, old, oil day {literal}', 3],
      [7, 'a owl in the barn, old, oil night {literal}', 3],
    ]);
    assert.equal(new Set(jobs.map((j) => j.key)).size, 8);
  });

  test('JSONL rows are variables; numbers are text; job fields still apply; no prompt field needed', async () => {
    const p = await file('vars.jsonl', '{"n":3,"thing":"cats","aspectRatio":"16:9","key":"k"}\n{"n":1,"thing":"dog"}\n');
    const jobs = await all(readJobs(p, { template: '{n} {thing}, {red|blue}' }));
    assert.deepEqual(jobs.map((j) => [j.prompt, j.aspectRatio, j.key.startsWith('k~') ? j.key : 'hash']), [
      ['3 cats, red', '16:9', 'k~0'],
      ['3 cats, blue', '16:9', 'k~1'],
      ['1 dog, red', undefined, 'hash'],
      ['1 dog, blue', undefined, 'hash'],
    ]);
  });

  test('a missing or non-text column is an issue naming the column and the line', async () => {
    const p = await file('missing.jsonl', '{"animal":"fox"}\n{"color":"red"}\n{"animal":{"x":1}}\n');
    const v = await validateInput(p, { template: 'a {animal}' });
    assert.equal(v.jobs, 1);
    assert.deepEqual(v.issues, [
      { file: p, line: 2, field: 'animal', message: 'missing value for {animal} in the template' },
      { file: p, line: 3, field: 'animal', message: '{animal} must be text, a number or a boolean' },
    ]);
  });

  test('txt lines fill {prompt}', async () => {
    const p = await file('t.txt', 'a fox\na cat\n');
    const jobs = await all(readJobs(p, { template: '{prompt}, {watercolor|pencil}' }));
    assert.deepEqual(jobs.map((j) => j.prompt), ['a fox, watercolor', 'a fox, pencil', 'a cat, watercolor', 'a cat, pencil']);
  });

  test('a malformed template is an OptionError naming the option', async () => {
    const p = await file('x.txt', 'a\n');
    for (const t of ['a {b', 'a }', 'a {}', '{a|b{c}']) {
      await assert.rejects(validateInput(p, { template: t }), (e: unknown) => e instanceof OptionError && e.option === 'template', t);
    }
    const huge = Array.from({ length: 5 }, () => '{a|b|c|d|e|f|g|h|i|j}').join(' ');
    await assert.rejects(validateInput(p, { template: huge }), /at most 10000 prompts per row \(this one makes 100000\)/);
  });
});

describe('variants and keys', () => {
  test('variants: N jobs per prompt, variant 0..N-1, distinct keys, consecutive indexes', async () => {
    const p = await file('v.txt', 'a\nb\n');
    const jobs = await all(readJobs(p, { variants: 3 }));
    assert.deepEqual(jobs.map((j) => [j.index, j.prompt, j.variant]), [
      [0, 'a', 0], [1, 'a', 1], [2, 'a', 2], [3, 'b', 0], [4, 'b', 1], [5, 'b', 2],
    ]);
    assert.equal(new Set(jobs.map((j) => j.key)).size, 6);
    const pk = await file('v.jsonl', '{"key":"hero","prompt":"x"}\n');
    assert.deepEqual((await all(readJobs(pk, { variants: 2 }))).map((j) => j.key), ['hero', 'hero~v1']);
  });

  test('same input → same keys; variant 0 keeps its key when variants grow', async () => {
    const p = await file('k.txt', 'a fox\na cat\n');
    const k1 = (await all(readJobs(p))).map((j) => j.key);
    const k2 = (await all(readJobs(p))).map((j) => j.key);
    assert.deepEqual(k1, k2);
    const k3 = (await all(readJobs(p, { variants: 2 }))).filter((j) => j.variant === 0).map((j) => j.key);
    assert.deepEqual(k3, k1);
  });

  test('different options → different keys', async () => {
    const p = await file('k2.txt', 'a fox\n');
    const key = async (o: InputOptions) => (await all(readJobs(p, o)))[0]?.key;
    const base = await key({});
    const others = await Promise.all([
      key({ model: 'gemini-3-pro-image' }),
      key({ aspectRatio: '16:9' }),
      key({ imageSize: '2K' }),
      key({ template: '{prompt}!' }),
    ]);
    assert.equal(new Set([base, ...others]).size, 5);
    // A job that names no model is keyed under the default model.
    assert.equal(await key({ model: DEFAULT_MODEL }), base);
  });

  test('jobKey: user key wins; hash covers model, prompt, size, seed, variant, image hashes; 16 hex', () => {
    const m = 'gemini-2.5-flash-image';
    const b = jobKey({ prompt: 'x' }, m);
    assert.match(b, /^[0-9a-f]{16}$/);
    assert.equal(jobKey({ prompt: 'x', variant: 0 }, m), b);
    assert.equal(jobKey({ prompt: 'x', source: { file: 'a', line: 9 }, out: 'o' }, m), b);
    const diffs = [
      jobKey({ prompt: 'y' }, m),
      jobKey({ prompt: 'x' }, 'other'),
      jobKey({ prompt: 'x', model: 'other' }, m),
      jobKey({ prompt: 'x', seed: 1 }, m),
      jobKey({ prompt: 'x', variant: 1 }, m),
      jobKey({ prompt: 'x', aspectRatio: '1:1' }, m),
      jobKey({ prompt: 'x', imageSize: '1K' }, m),
      jobKey({ prompt: 'x', images: [{ path: '/a.png', sha256: 'aa' }] }, m),
      jobKey({ prompt: 'x', images: [{ path: '/a.png', sha256: 'bb' }] }, m),
    ];
    assert.equal(new Set([b, ...diffs]).size, diffs.length);
    assert.equal(jobKey({ prompt: 'x', images: [{ path: '/moved.png', sha256: 'aa' }] }, m), diffs[7]);
    assert.equal(jobKey({ prompt: 'x', key: 'mine' }, m), 'mine');
  });

  test('bad option values are OptionErrors naming the option', async () => {
    const p = await file('o.txt', 'a\n');
    const cases: [InputOptions, string][] = [
      [{ variants: 0 }, 'variants'],
      [{ variants: 1.5 }, 'variants'],
      [{ aspectRatio: '2:1' }, 'aspectRatio'],
      [{ imageSize: '8K' }, 'imageSize'],
      [{ format: 'xml' as 'txt' }, 'format'],
      [{ model: '' }, 'model'],
    ];
    for (const [o, name] of cases) {
      await assert.rejects(validateInput(p, o), (e: unknown) => e instanceof OptionError && e.option === name, name);
    }
  });
});

describe('stdin', () => {
  test("'-' reads the provided stream once for both passes and cleanup removes the temp copy", async () => {
    const before = (await readdir(tmpdir())).filter((n) => n.startsWith('imagebatch-input-'));
    const stdin = Readable.from([Buffer.from('# c\r\na fox\r\n'), Buffer.from('a cat\n')]);
    const r = await openInput('-', { stdin });
    assert.equal(r.count, 2);
    const jobs = await all(r.jobs);
    assert.deepEqual(jobs.map((j) => [j.prompt, j.source?.file, j.source?.line]), [
      ['a fox', '<stdin>', 2],
      ['a cat', '<stdin>', 3],
    ]);
    const during = (await readdir(tmpdir())).filter((n) => n.startsWith('imagebatch-input-'));
    assert.equal(during.length, before.length + 1);
    await r.cleanup();
    const after = (await readdir(tmpdir())).filter((n) => n.startsWith('imagebatch-input-'));
    assert.deepEqual(after.sort(), before.sort());
  });

  test("'-' with format jsonl; validateInput and readJobs on the same stream agree; issues name <stdin>", async () => {
    const stdin = Readable.from(['{"prompt":"a"}\n', '{"prompt":""}\n', '{"prompt":"b"}\n']);
    const v = await validateInput('-', { stdin, format: 'jsonl' });
    assert.deepEqual(v, { jobs: 2, issues: [{ file: '<stdin>', line: 2, field: 'prompt', message: 'is empty' }] });
    await assert.rejects(all(readJobs('-', { stdin, format: 'jsonl' })), /<stdin>:2: prompt: is empty/);
    await assert.rejects(openInput('-', { stdin, format: 'jsonl' }), /<stdin>:2/);
  });

  test("relative reference images from stdin resolve against baseDir", async () => {
    await writeFile(join(scratch.dir(), 'r.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const stdin = Readable.from(['{"prompt":"a","images":["r.png"]}\n']);
    const r = await openInput('-', { stdin, format: 'jsonl', baseDir: scratch.dir() });
    const jobs = await all(r.jobs);
    await r.cleanup();
    assert.equal(jobs[0]?.images?.[0]?.path, join(scratch.dir(), 'r.png'));
  });
});
