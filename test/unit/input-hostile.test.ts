import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, truncate, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { InputError } from '../../src/errors.ts';
import { MAX_PROMPT_LENGTH, MAX_REF_BYTES, readJobs, validateInput } from '../../src/input/index.ts';
import type { Job } from '../../src/types.ts';
import { all, scratchFolder } from '../helpers/files.ts';

const scratch = scratchFolder('ib-input-hostile-');
const file = scratch.file;

describe('hostile input', () => {
  test('empty file → "no prompts" (validate returns it, readJobs throws it)', async () => {
    for (const [name, content] of [
      ['empty.txt', ''],
      ['comments.txt', '# one\n\n# two\n'],
      ['empty.jsonl', '\n\n'],
      ['header.csv', 'prompt,seed\n'],
      ['nothing.csv', ''],
    ] as const) {
      const p = await file(name, content);
      assert.deepEqual(await validateInput(p), { jobs: 0, issues: [{ file: p, line: 0, message: 'no prompts' }] }, name);
      await assert.rejects(all(readJobs(p)), /no prompts/, name);
    }
  });

  test('missing file → InputError with line 0 (thrown, not returned)', async () => {
    const p = join(scratch.dir(), 'absent.txt');
    await assert.rejects(validateInput(p), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.deepEqual(e.issues, [{ file: p, line: 0, message: 'file not found' }]);
      return true;
    });
    await assert.rejects(validateInput(scratch.dir()), (e: unknown) => e instanceof InputError && /directory/.test(e.message));
  });

  test(`a prompt up to ${MAX_PROMPT_LENGTH} characters is fine; one longer is an issue; a 1 MB line does not break the next`, async () => {
    const ok = 'a'.repeat(MAX_PROMPT_LENGTH);
    const p = await file('long.txt', `${ok}\n${'b'.repeat(1024 * 1024)}\nshort\n`);
    const v = await validateInput(p);
    assert.equal(v.jobs, 2);
    assert.deepEqual(v.issues, [{ file: p, line: 2, field: 'prompt', message: `is longer than ${MAX_PROMPT_LENGTH} characters` }]);
  });

  test('invalid UTF-8 is an issue on its own line only', async () => {
    const p = await file('bad.txt', Buffer.concat([Buffer.from('fine\n'), Buffer.from([0x61, 0xff, 0xfe, 0x0a]), Buffer.from('also fine\n')]));
    const v = await validateInput(p);
    assert.equal(v.jobs, 2);
    assert.deepEqual(v.issues, [{ file: p, line: 2, message: 'invalid UTF-8' }]);
    const pj = await file('bad.jsonl', Buffer.concat([Buffer.from('{"prompt":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}\n{"prompt":"ok"}\n')]));
    assert.deepEqual((await validateInput(pj)).issues, [{ file: pj, line: 1, message: 'invalid UTF-8' }]);
  });

  test('duplicate keys: issue on the later line naming the first; same prompt without a key counts too', async () => {
    const p = await file(
      'dup.jsonl',
      ['{"key":"a","prompt":"x"}', '{"key":"b","prompt":"y"}', '{"key":"a","prompt":"z"}', '{"prompt":"same"}', '{"prompt":"same"}', '{"prompt":"same","seed":1}', '{"key":"b","prompt":""}'].join('\n'),
    );
    const v = await validateInput(p);
    assert.equal(v.jobs, 4);
    assert.deepEqual(
      v.issues.map((i) => [i.line, i.field, i.message.replace(/job key [0-9a-f]+/, 'job key K')]),
      [
        [3, 'key', 'duplicate key "a" (first used on line 1)'],
        [5, 'prompt', 'same prompt and options as line 4 (job key K); remove it, give it a key, or use variants for more images'],
        [7, 'prompt', 'is empty'],
        [7, 'key', 'duplicate key "b" (first used on line 2)'],
      ],
    );
  });

  test('a prompt that looks like a path is just text', async () => {
    const p = await file('path.txt', '../../etc/passwd\n/etc/shadow\n');
    const jobs = await all(readJobs(p));
    assert.deepEqual(jobs.map((j) => j.prompt), ['../../etc/passwd', '/etc/shadow']);
    assert.equal(jobs[0]?.images, undefined);
  });
});

describe('reference images', () => {
  let refDir: string;
  // Reference files are checked by their first bytes: the fakes start with the real PNG and JPEG signatures.
  const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const png = Buffer.concat([PNG_SIG, Buffer.from(' fake bytes')]);
  const pngOf = (text: string) => Buffer.concat([PNG_SIG, Buffer.from(text)]);
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0x6a, 0x70, 0x65, 0x67]);
  before(async () => {
    refDir = join(scratch.dir(), 'refs');
    await mkdir(join(refDir, 'sub'), { recursive: true });
    await writeFile(join(refDir, 'sub', 'cat.png'), png);
    await writeFile(join(refDir, 'photo.JPG'), jpeg);
    await writeFile(join(refDir, 'notes.txt'), 'x');
    await writeFile(join(scratch.dir(), 'outside.png'), png);
    await symlink(join(scratch.dir(), 'outside.png'), join(refDir, 'link.png'));
  });

  const line = (images: string[], prompt = 'edit') => JSON.stringify({ prompt, images });

  test('a local file resolves against the input folder, with sha256 and mimeType; URLs are kept and not fetched', async () => {
    const p = join(refDir, 'in.jsonl');
    await writeFile(p, line(['sub/cat.png', 'photo.JPG', 'https://example.invalid/x.webp?size=2']));
    const jobs = await all(readJobs(p));
    assert.deepEqual(jobs[0]?.images, [
      { path: join(refDir, 'sub', 'cat.png'), sha256: createHash('sha256').update(png).digest('hex'), mimeType: 'image/png' },
      { path: join(refDir, 'photo.JPG'), sha256: createHash('sha256').update(jpeg).digest('hex'), mimeType: 'image/jpeg' },
      { path: 'https://example.invalid/x.webp?size=2', mimeType: 'image/webp' },
    ]);
  });

  test('outside baseDir, missing, symlinked out, unsupported type, odd schemes: one issue each', async () => {
    const p = join(refDir, 'bad.jsonl');
    await writeFile(p, [line(['../outside.png', 'missing.png', 'link.png']), line(['notes.txt', 'file:///etc/passwd.png', 'sub'], 'b')].join('\n'));
    const v = await validateInput(p);
    assert.equal(v.jobs, 0);
    assert.deepEqual(
      v.issues.map((i) => [i.line, i.field, i.message.replace(refDir, 'REFS')]),
      [
        [1, 'images.0', '../outside.png is outside REFS (--allow-outside-refs or allowOutsideRefs: true permits it)'],
        [1, 'images.1', 'reference image not found: missing.png'],
        [1, 'images.2', 'link.png links outside REFS (--allow-outside-refs or allowOutsideRefs: true permits it)'],
        [2, 'images.0', 'unsupported image type ".txt" (use png, jpg, jpeg or webp)'],
        [2, 'images.1', 'only http(s) URLs are supported, got file:'],
        [2, 'images.2', 'unsupported image type "(none)" (use png, jpg, jpeg or webp)'],
      ],
    );
  });

  test('allowOutsideRefs and baseDir options', async () => {
    const p = join(refDir, 'out.jsonl');
    await writeFile(p, line(['../outside.png', 'link.png']));
    assert.deepEqual((await validateInput(p, { allowOutsideRefs: true })).issues, []);
    const p2 = join(refDir, 'base.jsonl');
    await writeFile(p2, line(['outside.png']));
    assert.deepEqual((await validateInput(p2, { baseDir: scratch.dir() })).issues, []);
  });

  test('a text file named .png is an input error naming the file (its first bytes are not an image)', async () => {
    await writeFile(join(refDir, 'not-really.png'), 'just some text, not a picture');
    const p = join(refDir, 'text-png.jsonl');
    await writeFile(p, line(['not-really.png', 'sub/cat.png']));
    const v = await validateInput(p);
    assert.deepEqual(
      v.issues.map((i) => [i.line, i.field, i.message]),
      [[1, 'images.0', 'not-really.png is not an image (its first bytes are not PNG, JPEG, WebP or HEIC)']],
    );
  });

  test('each image at most 7 MB; the request (base64 + prompt) under 20 MB', async () => {
    const big = join(refDir, 'big.png');
    await writeFile(big, PNG_SIG);
    await truncate(big, MAX_REF_BYTES + 1);
    const six: string[] = [];
    for (const n of [1, 2, 3]) {
      const f = join(refDir, `six${n}.png`);
      await writeFile(f, PNG_SIG);
      await truncate(f, 6 * 1024 * 1024 - n);
      six.push(`six${n}.png`);
    }
    const p = join(refDir, 'size.jsonl');
    await writeFile(p, [line(['big.png']), line(six.slice(0, 2), 'two'), line(six, 'three')].join('\n'));
    const v = await validateInput(p);
    assert.equal(v.jobs, 1);
    assert.deepEqual(
      v.issues.map((i) => [i.line, i.field, i.message]),
      [
        [1, 'images.0', `reference image is ${MAX_REF_BYTES + 1} bytes; the limit is ${MAX_REF_BYTES} bytes (7.0 MB) per image`],
        [3, 'images', 'reference images make the request 24.0 MB once base64-encoded; the limit is 20.0 MB'],
      ],
    );
  });

  test('editing a reference image changes the job key; moving it does not', async () => {
    const a = join(refDir, 'k1.png');
    await writeFile(a, pngOf('one'));
    const p = join(refDir, 'key.jsonl');
    await writeFile(p, line(['k1.png']));
    const k1 = (await all(readJobs(p)))[0]?.key;
    await writeFile(a, pngOf('two'));
    const k2 = (await all(readJobs(p)))[0]?.key;
    await writeFile(join(refDir, 'k2.png'), pngOf('two'));
    await writeFile(p, line(['k2.png']));
    const k3 = (await all(readJobs(p)))[0]?.key;
    assert.notEqual(k1, k2);
    assert.equal(k2, k3);
  });
});

describe('streaming', () => {
  test('100,000 lines validate in one pass; readJobs is lazy (a bad last line is not reached when the caller stops early)', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 100_000; i++) lines.push(`prompt number ${i}`);
    const p = await file('big.txt', Buffer.concat([Buffer.from(`${lines.join('\n')}\n`), Buffer.from([0xff, 0x0a])]));
    const v = await validateInput(p);
    assert.equal(v.jobs, 100_000);
    assert.deepEqual(v.issues, [{ file: p, line: 100_001, message: 'invalid UTF-8' }]);
    const first: Job[] = [];
    for await (const j of readJobs(p)) {
      first.push(j);
      if (first.length === 3) break;
    }
    assert.deepEqual(first.map((j) => j.index), [0, 1, 2]);
  });

  test('an aborted signal stops validation', async () => {
    const p = await file('abort.txt', 'a\nb\n');
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await assert.rejects(validateInput(p, { signal: ac.signal }), /stop/);
  });
});

describe('text hygiene', () => {
  const utf16 = (s: string, le: boolean) => {
    const b = Buffer.from(s, 'utf16le');
    return le ? b : b.swap16();
  };

  test('UTF-16 with or without a BOM, LE or BE, is read as text (no NULs in the prompts)', async () => {
    const text = 'a red fox\n# comment\nein Fuchs – grün\n';
    for (const [name, bytes] of [
      ['le-bom.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), utf16(text, true)])],
      ['be-bom.txt', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16(text, false)])],
      ['le.txt', utf16(text, true)],
      ['be.txt', utf16(text, false)],
    ] as const) {
      const p = await file(name, bytes);
      assert.deepEqual((await validateInput(p)).issues, [], name);
      assert.deepEqual((await all(readJobs(p))).map((j) => j.prompt), ['a red fox', 'ein Fuchs – grün'], name);
    }
    const pj = await file('le.jsonl', utf16('{"prompt":"owl","seed":3}\r\n', true));
    assert.deepEqual((await all(readJobs(pj))).map((j) => [j.prompt, j.seed]), [['owl', 3]]);
    const pc = await file('be.csv', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16('prompt,seed\n"cat, sitting",4\n', false)]));
    assert.deepEqual((await all(readJobs(pc))).map((j) => [j.prompt, j.seed]), [['cat, sitting', 4]]);
  });

  test('UTF-32 is refused with the encoding named; a NUL inside a UTF-8 prompt is an issue on its line', async () => {
    const u32 = Buffer.alloc(4 * 4);
    [...'cat\n'].forEach((c, i) => u32.writeUInt32LE(c.codePointAt(0)!, i * 4));
    for (const [name, bytes, how] of [
      ['bom32.txt', Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), u32]), 'byte-order mark'],
      ['nul32.txt', u32, 'NUL bytes'],
    ] as const) {
      const p = await file(name, bytes);
      await assert.rejects(validateInput(p), (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.deepEqual(e.issues, [{ file: p, line: 0, message: `the file is UTF-32LE (by its ${how}); save it as UTF-8` }]);
        return true;
      });
    }
    const p = await file('nul.txt', 'fine\nbad\u0000prompt\n\u0000\n');
    assert.deepEqual(
      (await validateInput(p)).issues.map((i) => [i.line, i.field, i.message]),
      [
        [2, 'prompt', 'contains a NUL character (binary data, or a UTF-16/32 file?)'],
        [3, 'prompt', 'contains a NUL character (binary data, or a UTF-16/32 file?)'],
      ],
    );
  });

  test('a prompt of only control, format or zero-width characters is an issue naming the line (all formats)', async () => {
    const invisible = ['\u200b\u200b', '\u0007\u0001', '\u200d\ufeff\u2060', '\u2800\u00ad', '\u3164', '\u202e\u200f'];
    const p = await file('inv.txt', ['ok', ...invisible, 'zero\u200bwidth inside is fine'].join('\n'));
    const v = await validateInput(p);
    assert.equal(v.jobs, 2);
    assert.deepEqual(
      v.issues.map((i) => [i.line, i.field, i.message]),
      invisible.map((_, n) => [n + 2, 'prompt', 'has only invisible characters (control, format or zero-width)']),
    );
    const pj = await file('inv.jsonl', `${JSON.stringify({ prompt: '\u200b' })}\n`);
    assert.deepEqual((await validateInput(pj)).issues.map((i) => [i.line, i.field]), [[1, 'prompt']]);
    const pc = await file('inv.csv', 'prompt\n"\u2060\u200c"\n');
    assert.deepEqual((await validateInput(pc)).issues.map((i) => [i.line, i.field]), [[2, 'prompt']]);
  });

  test('a key repeated in a JSON line is an issue naming the key (escaped spellings count), nested ones are not', async () => {
    const p = await file(
      'dupkey.jsonl',
      [
        '{"prompt":"a cat","prompt":"a dog"}',
        '{"prompt":"x","seed":1,"\\u0073eed":2,"seed":3}',
        '{"prompt":"ok","note":{"a":1,"a":2},"list":[{"b":1},{"b":2}],"text":"\\"prompt\\":"}',
      ].join('\n'),
    );
    const v = await validateInput(p);
    assert.equal(v.jobs, 1);
    assert.deepEqual(
      v.issues.map((i) => [i.line, i.field, i.message]),
      [
        [1, 'prompt', 'appears more than once in the line (which one is meant?)'],
        [2, 'seed', 'appears more than once in the line (which one is meant?)'],
      ],
    );
  });
});
