import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIssue } from '../../src/errors.ts';
import { readJobs, validateInput, openInput } from '../../src/input/index.ts';
import { all, scratchFolder } from '../helpers/files.ts';

const scratch = scratchFolder('ib-input-fmt-');
const file = scratch.file;

describe('txt', () => {
  test('one prompt per line; blank lines and # comments skipped; index counts jobs, source.line keeps the line', async () => {
    const p = await file('a.txt', '# header\n\na red fox\n   \n  a blue whale  \n# end\nthe moon');
    const v = await validateInput(p);
    assert.deepEqual(v, { jobs: 3, issues: [] });
    const jobs = await all(readJobs(p));
    assert.deepEqual(jobs.map((j) => [j.index, j.prompt, j.source?.line]), [
      [0, 'a red fox', 3],
      [1, 'a blue whale', 5],
      [2, 'the moon', 7],
    ]);
    assert.equal(new Set(jobs.map((j) => j.key)).size, 3);
    for (const j of jobs) assert.match(j.key, /^[0-9a-f]{16}$/);
  });

  test('BOM and CRLF are stripped', async () => {
    const p = await file('bom.txt', '\ufeffa cat\r\na dog\r\n');
    const jobs = await all(readJobs(p));
    assert.deepEqual(jobs.map((j) => j.prompt), ['a cat', 'a dog']);
  });

  test('braces stay literal without a template', async () => {
    const p = await file('braces.txt', 'a {cat|dog} on {mat}\n');
    const jobs = await all(readJobs(p));
    assert.equal(jobs[0]?.prompt, 'a {cat|dog} on {mat}');
  });

  test('run-wide aspectRatio and imageSize land on every job', async () => {
    const p = await file('ar.txt', 'x\ny\n');
    const jobs = await all(readJobs(p, { aspectRatio: '16:9', imageSize: '2K' }));
    assert.deepEqual(jobs.map((j) => [j.aspectRatio, j.imageSize]), [['16:9', '2K'], ['16:9', '2K']]);
  });

  test('unknown extension reads as txt; format option overrides the extension', async () => {
    const p = await file('prompts.list', '{"prompt":"a"}\n');
    const asTxt = await all(readJobs(p));
    assert.equal(asTxt[0]?.prompt, '{"prompt":"a"}');
    const asJsonl = await all(readJobs(p, { format: 'jsonl' }));
    assert.equal(asJsonl[0]?.prompt, 'a');
  });
});

describe('jsonl', () => {
  test('all fields are read; a line value wins over the run-wide default; unknown fields ignored', async () => {
    const p = await file(
      'a.jsonl',
      [
        JSON.stringify({ prompt: 'a fox', key: 'fox', model: 'gemini-3-pro-image', aspectRatio: '3:2', imageSize: '4K', seed: 7, out: 'hero', note: 'ignored' }),
        '',
        JSON.stringify({ prompt: 'a whale' }),
      ].join('\n'),
    );
    const jobs = await all(readJobs(p, { aspectRatio: '1:1' }));
    assert.equal(jobs.length, 2);
    assert.deepEqual(jobs[0], {
      key: 'fox',
      index: 0,
      prompt: 'a fox',
      model: 'gemini-3-pro-image',
      aspectRatio: '3:2',
      imageSize: '4K',
      seed: 7,
      out: 'hero',
      source: { file: p, line: 1 },
    });
    assert.equal(jobs[1]?.aspectRatio, '1:1');
    assert.equal(jobs[1]?.source?.line, 3);
    assert.equal(jobs[1]?.model, undefined);
  });

  test('.ndjson is jsonl', async () => {
    const p = await file('a.ndjson', '{"prompt":"x"}\n');
    assert.deepEqual(await validateInput(p), { jobs: 1, issues: [] });
  });

  test('every bad line is reported with file:line: field, not just the first', async () => {
    const p = await file(
      'bad.jsonl',
      [
        '{"prompt":"ok"}',
        '{"prompt":"x","seed":1.5,"aspectRatio":"7:7"}',
        '[1,2]',
        '{"prompt":""}',
        'not json',
        '{"nope":1}',
        '{"prompt":"y","imageSize":"1k","images":"a.png"}',
        '"text"',
        '{"prompt":42,"model":"bad model"}',
      ].join('\n'),
    );
    const v = await validateInput(p);
    assert.equal(v.jobs, 1);
    const lines = v.issues.map(formatIssue).map((s) => s.slice(p.length));
    assert.deepEqual(lines, [
      ':2: aspectRatio: must be one of 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9, 1:4, 4:1, 1:8, 8:1',
      ':2: seed: must be an integer',
      ':3: expected a JSON object, got an array',
      ':4: prompt: is empty',
      lines[4]!,
      ':6: prompt: is required',
      ':7: imageSize: must be one of 1K, 2K, 4K, 512',
      ':7: images: must be an array of paths or URLs',
      ':8: expected a JSON object, got string',
      ':9: model: is not a model id',
      ':9: prompt: must be a string',
    ]);
    assert.match(lines[4]!, /^:5: not valid JSON/);
  });

  test('readJobs throws InputError on the first bad line when not validated', async () => {
    const p = await file('bad2.jsonl', '{"prompt":"ok"}\n{"prompt":""}\n{"x":1}\n');
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const j of readJobs(p)) seen.push(j.prompt);
      })(),
      (e: unknown) => {
        assert.equal((e as { code?: string }).code, 'INPUT');
        assert.deepEqual((e as { issues: unknown[] }).issues, [{ file: p, line: 2, field: 'prompt', message: 'is empty' }]);
        return true;
      },
    );
    assert.deepEqual(seen, ['ok']);
  });

  test('openInput throws InputError listing ALL issues', async () => {
    const p = await file('bad3.jsonl', '{"prompt":""}\n{"prompt":"ok"}\n{"x":1}\n');
    await assert.rejects(openInput(p), (e: unknown) => {
      const issues = (e as { issues: { line: number }[] }).issues;
      assert.deepEqual(issues.map((i) => i.line), [1, 3]);
      assert.match((e as Error).message, /bad3\.jsonl:1: prompt: is empty\n.*bad3\.jsonl:3: prompt: is required/);
      return true;
    });
  });

  test('openInput on a good file returns count and the lazy jobs', async () => {
    const p = await file('good.jsonl', '{"prompt":"a"}\n{"prompt":"b"}\n');
    const r = await openInput(p);
    assert.equal(r.count, 2);
    assert.deepEqual((await all(r.jobs)).map((j) => j.prompt), ['a', 'b']);
    await r.cleanup();
  });
});

describe('csv', () => {
  test('header with a prompt column; quoted commas, quotes and newlines; the record start line is reported', async () => {
    const p = await file(
      'a.csv',
      'id,Prompt,Aspect_Ratio,seed,out\r\n1,"a fox, running",16:9,3,fox\r\n2,"a ""quoted""\nmulti\nline prompt",,,\r\n\r\n3,plain,1:1,-4,\r\n',
    );
    const v = await validateInput(p);
    assert.deepEqual(v, { jobs: 3, issues: [] });
    const jobs = await all(readJobs(p));
    assert.deepEqual(
      jobs.map((j) => [j.prompt, j.aspectRatio, j.seed, j.out, j.source?.line]),
      [
        ['a fox, running', '16:9', 3, 'fox', 2],
        ['a "quoted"\nmulti\nline prompt', undefined, undefined, undefined, 3],
        ['plain', '1:1', -4, undefined, 7],
      ],
    );
  });

  test('bad records are each reported at the line where they start', async () => {
    const p = await file(
      'bad.csv',
      'prompt,seed,aspectRatio\n"two\nlines",x,1:1\nok,1,1:1\nshort\n"",2,3:3\nfine,2,2:3\n"never closed,1,1:1\nmore\n',
    );
    const v = await validateInput(p);
    assert.equal(v.jobs, 2);
    assert.deepEqual(
      v.issues.map((i) => [i.line, i.field, i.message]),
      [
        [2, 'seed', 'must be an integer'],
        [5, undefined, 'expected 3 fields as in the header, found 1'],
        [6, 'aspectRatio', 'must be one of 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9, 1:4, 4:1, 1:8, 8:1'],
        [6, 'prompt', 'is empty'],
        [8, undefined, 'a quoted field is never closed'],
      ],
    );
  });

  test('a header without a prompt column is one issue on line 1', async () => {
    const p = await file('noprompt.csv', 'text,seed\nhello,1\n');
    const v = await validateInput(p);
    assert.deepEqual(v, { jobs: 0, issues: [{ file: p, line: 1, field: 'prompt', message: 'the header has no prompt column' }] });
  });

  test('images cell holds several paths separated by ;', async () => {
    const p = await file('img.csv', 'prompt,images\nedit,https://e.test/a.png; https://e.test/b.jpg\n');
    const jobs = await all(readJobs(p));
    assert.deepEqual(jobs[0]?.images, [
      { path: 'https://e.test/a.png', mimeType: 'image/png' },
      { path: 'https://e.test/b.jpg', mimeType: 'image/jpeg' },
    ]);
  });

  test('invalid UTF-8 inside a CSV record is an issue on that record', async () => {
    const p = await file('utf.csv', Buffer.concat([Buffer.from('prompt\nok\n"bad\n'), Buffer.from([0xc3, 0x28]), Buffer.from('"\nfine\n')]));
    const v = await validateInput(p);
    assert.equal(v.jobs, 2);
    assert.deepEqual(v.issues, [{ file: p, line: 3, message: 'invalid UTF-8' }]);
  });
});
