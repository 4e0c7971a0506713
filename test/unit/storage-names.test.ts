import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve, sep } from 'node:path';
import { confinedPath, extensionFor, imageFileName, slugify } from '../../src/storage/names.ts';
import { StorageError } from '../../src/errors.ts';

const RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])$/;

describe('slugify', () => {
  const table: [string, string][] = [
    ['A Red Fox, running!', 'a-red-fox-running'],
    ['Crème brûlée à la française', 'creme-brulee-a-la-francaise'],
    ['Straße Ærø Łódź', 'strasse-aero-lodz'],
    ['../../etc/passwd', 'etc-passwd'],
    ['..', 'image'],
    ['.', 'image'],
    ['', 'image'],
    ['   ', 'image'],
    ['🦊🐳', 'image'],
    ['a 🦊 fox', 'a-fox'],
    ['日本語のプロンプト', 'image'],
    ['CON', 'con-x'],
    ['nul', 'nul-x'],
    ['com1', 'com1-x'],
    ['LPT9', 'lpt9-x'],
    ['console', 'console'],
    ['com10', 'com10'],
    ['line one\nline two\r\nthree\ttab', 'line-one-line-two-three-tab'],
    ['C:\\Windows\\System32', 'c-windows-system32'],
    ['--lead and trail--', 'lead-and-trail'],
    ['fi ligature ﬁsh', 'fi-ligature-fish'],
    ['NUL\u0000byte', 'nul-byte'],
  ];
  for (const [input, want] of table) {
    test(JSON.stringify(input.slice(0, 40)), () => assert.equal(slugify(input), want));
  }

  test('truncates to maxLength without a trailing dash; 10,000 characters are fine', () => {
    assert.equal(slugify('abc def ghi', 5), 'abc-d');
    assert.equal(slugify('abcd efgh', 5), 'abcd');
    const long = slugify('word '.repeat(2000));
    assert.ok(long.length <= 48);
    assert.doesNotMatch(long, /-$/);
    assert.equal(slugify('x'.repeat(10_000)), 'x'.repeat(48));
  });

  test('always [a-z0-9-], never empty, never reserved, for arbitrary code points (seeded)', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let n = 0; n < 2000; n++) {
      const len = Math.floor(rnd() * 30);
      let s = '';
      for (let i = 0; i < len; i++) s += String.fromCodePoint(Math.floor(rnd() * (rnd() < 0.5 ? 128 : 0x2ffff)));
      const slug = slugify(s);
      assert.match(slug, /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, JSON.stringify(s));
      assert.ok(slug.length <= 48 || RESERVED.test(slug.slice(0, -2)));
      assert.ok(!RESERVED.test(slug));
    }
  });
});

describe('imageFileName', () => {
  test('table', () => {
    const table: [Parameters<typeof imageFileName>, string][] = [
      [[{ index: 0, prompt: 'A red fox' }, 1, 1, 'image/png'], '0000-a-red-fox.png'],
      [[{ index: 7, prompt: 'A red fox' }, 2, 3, 'image/jpeg'], '0007-a-red-fox-2.jpg'],
      [[{ index: 12345, prompt: 'x', variant: 2 }, 1, 1, 'image/webp'], '12345-x-v2.webp'],
      [[{ index: 3, prompt: 'x', variant: 0 }, 1, 2, 'image/gif'], '0003-x-v0-1.gif'],
      [[{ index: 1, prompt: 'ignored', out: 'Hero Banner' }, 1, 1, 'image/png'], '0001-hero-banner.png'],
      [[{ index: 1, prompt: 'p', out: '../../escape' }, 1, 1, 'image/png'], '0001-escape.png'],
      [[{ index: 1, prompt: 'p', out: 'CON' }, 1, 1, 'image/png'], '0001-con-x.png'],
      [[{ index: 2, prompt: 'p' }, 1, 1, 'application/octet-stream'], '0002-p.bin'],
      [[{ index: 2, prompt: 'p' }, 1, 1, 'IMAGE/PNG'], '0002-p.png'],
    ];
    for (const [args, want] of table) assert.equal(imageFileName(...args), want);
  });

  test('hostile prompts and stems all resolve inside the folder with no reserved or dot names', () => {
    const dir = resolve('/tmp/out-folder');
    const hostile = ['../../etc/passwd', '/etc/passwd', 'x'.repeat(10_000), '🦊'.repeat(500), 'CON', 'aux', 'a\nb\rc\u0000d', '..', '.', '\\..\\..\\win', ' ', 'name.png', '%2e%2e%2f'];
    for (const h of hostile) {
      for (const job of [{ index: 1, prompt: h }, { index: 1, prompt: 'p', out: h }]) {
        const name = imageFileName(job, 1, 1, 'image/png');
        assert.match(name, /^\d{4,}-[a-z0-9-]+\.png$/, name);
        assert.ok(name.length < 200);
        const p = confinedPath(dir, name);
        assert.ok(p.startsWith(dir + sep));
        assert.equal(resolve(dir, name), join(dir, name));
      }
    }
  });

  test('extensionFor', () => {
    assert.deepEqual(['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/heic', 'image/png; charset=x'].map(extensionFor), ['png', 'jpg', 'webp', 'gif', 'bin', 'png']);
  });
});

describe('confinedPath', () => {
  test('refuses names that leave the folder', () => {
    const dir = resolve('/tmp/out-folder');
    assert.equal(confinedPath(dir, 'a.png'), join(dir, 'a.png'));
    for (const bad of ['../x.png', '/etc/passwd', '.', '', 'sub/../../x']) {
      assert.throws(() => confinedPath(dir, bad), StorageError, bad);
    }
  });
  test('joins plain names onto each folder asked for, a relative one against the working directory of the call', () => {
    const a = resolve('/tmp/out-a');
    const b = resolve('/tmp/out-b');
    assert.equal(confinedPath(a, '0001-x.png'), join(a, '0001-x.png'));
    assert.equal(confinedPath(b, '0001-x.png'), join(b, '0001-x.png'));
    assert.equal(confinedPath(a + sep, 'y.png'), join(a, 'y.png'));
    assert.equal(confinedPath('rel-out', 'z.png'), join(process.cwd(), 'rel-out', 'z.png'));
    assert.equal(confinedPath(a, 'sub/w.png'), join(a, 'sub', 'w.png'), 'a name with a folder inside still resolves');
    assert.throws(() => confinedPath(a, '..'), StorageError);
  });
});
