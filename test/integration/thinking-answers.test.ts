// A thinking model's answer (thought text, a draft image, the final image with a thoughtSignature) saved whole:
// only the final image is a file, the thought text is in the manifest, the signature inside the image (not the manifest).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runToDisk } from '../../src/run-disk.ts';
import { renderSize } from '../../src/emulator/render.ts';
import { readThoughtSignature } from '../../src/storage/signature.ts';
import { manifestOf, tempDir, withEmulator } from '../helpers/emu.ts';

const KEY = 'thinking-test-key-0123456789';
const THINKING_MODEL = 'gemini-nano-banana-2.1'; // a thinking model in the registry

describe('thinking answers on disk', () => {
  test('final image only, thoughts in the manifest, thoughtSignature inside the image, real width × height', async () => {
    await withEmulator({}, async (emu) => {
      const { dir, cleanup } = await tempDir();
      try {
        await runToDisk([{ prompt: 'a lighthouse at dusk', aspectRatio: '16:9' }, { prompt: 'a bowl of ramen' }], {
          apiKey: KEY,
          baseUrl: emu.url,
          model: THINKING_MODEL,
          out: dir,
          cacheDir: false,
        });
        // One file per image: no sidecar (the gallery, manifest and summary are other tests' business).
        const names = (await readdir(dir)).filter((n) => /^\d{4}-/.test(n)).sort();
        assert.deepEqual(names, ['0000-a-lighthouse-at-dusk.png', '0001-a-bowl-of-ramen.png']);
        const entries = (await manifestOf(dir)).sort((a, b) => a.index - b.index);
        for (const [i, e] of entries.entries()) {
          assert.equal(e.status, 'succeeded');
          assert.equal(e.files.length, 1, 'the draft image is not a result');
          assert.match(e.thoughts?.[0] ?? '', /Composing the scene/);
          assert.ok(!(e.text ?? []).some((t) => /Composing the scene/.test(t)));
          const f = e.files[0]!;
          const want = renderSize(i === 0 ? '16:9' : undefined, undefined);
          assert.deepEqual([f.width, f.height], [want.width, want.height]);
          assert.equal(f.sizeMismatch, undefined);
          assert.equal(f.signatureIn, f.path);
          const sig = Buffer.from((await readThoughtSignature(dir, f))!).toString('latin1');
          assert.match(sig, /^[A-Za-z0-9+/]+=*$/);
          assert.ok(!(await readFile(join(dir, 'manifest.jsonl'), 'latin1')).includes(sig), 'the signature stays out of the manifest');
        }
      } finally {
        await cleanup();
      }
    });
  });

  test('the image holds exactly the signature the server sent', async () => {
    await withEmulator({}, async (emu) => {
      const { dir, cleanup } = await tempDir();
      const signatures: string[] = [];
      // Reads a copy of each answer as the server sent it, before the client's streaming reader sees it.
      const tap: typeof fetch = async (input, init) => {
        const res = await fetch(input, init);
        // The preflight's models.get is not an answer.
        if (!String(input instanceof Request ? input.url : input).includes(':generateContent')) return res;
        const body = (await res.clone().json()) as { candidates?: { content?: { parts?: { thoughtSignature?: string; thought?: boolean }[] } }[] };
        const parts = body.candidates?.[0]?.content?.parts ?? [];
        assert.ok(parts.some((p) => p.thought === true), 'the emulator sends thought parts first');
        for (const p of parts) if (p.thoughtSignature) signatures.push(p.thoughtSignature);
        return res;
      };
      try {
        await runToDisk(['a red kite'], { apiKey: KEY, baseUrl: emu.url, model: THINKING_MODEL, out: dir, cacheDir: false, fetch: tap });
        const [entry] = await manifestOf(dir);
        assert.equal(signatures.length, 1);
        assert.equal(Buffer.from((await readThoughtSignature(dir, entry!.files[0]!))!).toString('latin1'), signatures[0]);
      } finally {
        await cleanup();
      }
    });
  });
  test('a million-character signature goes into its image whole; the manifest line stays small', async () => {
    await withEmulator({ thoughtSignatureChars: 1_000_000 }, async (emu) => {
      const { dir, cleanup } = await tempDir();
      try {
        await runToDisk(['a red kite', 'a blue kite'], { apiKey: KEY, baseUrl: emu.url, model: THINKING_MODEL, out: dir, cacheDir: false });
        for (const e of await manifestOf(dir)) {
          const sig = Buffer.from((await readThoughtSignature(dir, e.files[0]!))!).toString('latin1');
          assert.equal(sig.length, 1_000_000);
          assert.match(sig.slice(0, 1000), /^[A-Za-z0-9+/]+$/);
        }
        const manifest = await readFile(join(dir, 'manifest.jsonl'), 'utf8');
        assert.ok(manifest.length < 4000, `manifest is ${manifest.length} bytes`);
      } finally {
        await cleanup();
      }
    });
  });
});
