// The registry is data other modules trust blindly, so its internal consistency is checked here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODEL, IMAGE_SIZES, MODELS, findModel, replacementFor } from '../../src/models/index.ts';
import type { FactName, ModelInfo } from '../../src/models/index.ts';
import { DEFAULT_MODELS } from '../../src/emulator/index.ts';
import { DEFAULT_MODEL as PUBLIC_DEFAULT } from '../../src/index.ts';

const served = MODELS.filter((m) => m.status !== 'shut_down');

test('the default model is a served, recommended entry, and every module uses the same one', () => {
  const m = findModel(DEFAULT_MODEL);
  assert.ok(m, DEFAULT_MODEL);
  assert.equal(m.status, 'ga');
  assert.equal(PUBLIC_DEFAULT, DEFAULT_MODEL);
});

test('findModel: models/ prefix and any case; unknown ids are undefined', () => {
  assert.equal(findModel('models/GEMINI-3-PRO-IMAGE')?.id, 'gemini-3-pro-image');
  assert.equal(findModel(' gemini-nano-banana-2.1 ')?.id, 'gemini-nano-banana-2.1');
  assert.equal(findModel('gemini-9-ultra-image'), undefined);
  assert.equal(findModel('models/'), undefined);
});

test('ids are unique, lower-case and URL-safe', () => {
  const ids = MODELS.map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, /^[a-z0-9][a-z0-9.-]*$/);
});

test('every replacement refers to an entry, and following it ends on a model that is not shut down', () => {
  for (const m of MODELS) {
    if (m.replacement === undefined) continue;
    assert.ok(findModel(m.replacement), `${m.id} → ${m.replacement}`);
    assert.notEqual(m.replacement, m.id);
    const final = replacementFor(m.id);
    assert.ok(final && final.status !== 'shut_down' && final.status !== 'deprecated', `${m.id} → ${final?.id}`);
  }
  assert.equal(replacementFor('gemini-3-pro-image-preview')?.id, 'gemini-3-pro-image');
  assert.equal(replacementFor('gemini-3.1-flash-image-preview')?.id, DEFAULT_MODEL, 'preview → 3.1-flash-image (deprecated) → 2.1');
  assert.equal(replacementFor(DEFAULT_MODEL), undefined);
});

test('shut-down entries have a date and a replacement; deprecated and restricted ones name a replacement', () => {
  for (const m of MODELS) {
    if (m.status === 'shut_down') {
      assert.match(m.shutdown ?? '', /^\d{4}-\d{2}-\d{2}$/, m.id);
      assert.ok(m.replacement, m.id);
      assert.equal(m.prices, undefined, `${m.id}: nobody can buy a shut-down model`);
    }
    if (m.status === 'deprecated' || m.status === 'restricted') assert.ok(m.replacement, m.id);
  }
});

test('every served model lists sizes and ratios; the default size is one of its sizes', () => {
  for (const m of served) {
    assert.ok(m.sizes.length > 0 && m.aspectRatios.length > 0, m.id);
    assert.ok(m.aspectRatios.includes('1:1'), m.id);
    for (const s of m.sizes) assert.ok(IMAGE_SIZES.includes(s), `${m.id} ${s}`);
    if (m.defaultSize !== undefined) assert.ok(m.sizes.includes(m.defaultSize), m.id);
  }
  assert.equal(findModel('gemini-2.5-flash-image')?.defaultSize, undefined, '2.5 takes no imageSize at all');
  assert.ok(!findModel(DEFAULT_MODEL)!.sizes.includes('512'), '2.1 rejects 512');
  assert.deepEqual(findModel('gemini-3.1-flash-lite-image')!.sizes, ['1K']);
});

test('every size of a served model has a price and a token count, and they agree within half a cent (Google rounds its quotes)', () => {
  for (const m of served) {
    assert.ok(m.prices, `${m.id} has no prices`);
    for (const s of m.sizes) {
      const price = m.prices.perImage[s];
      const tokens = m.tokensPerImage[s];
      assert.ok(price !== undefined && price > 0, `${m.id} ${s} price`);
      assert.ok(tokens !== undefined && tokens > 0, `${m.id} ${s} tokens`);
      const fromTokens = (tokens * m.prices.imageOutputPerMTok) / 1e6;
      assert.ok(Math.abs(price - fromTokens) < 0.005, `${m.id} ${s}: $${price} vs ${tokens} tokens = $${fromTokens}`);
    }
    for (const s of Object.keys(m.prices.perImage)) assert.ok(m.sizes.includes(s as ModelInfo['sizes'][number]), `${m.id}: price row ${s} is not a size`);
    assert.ok(m.prices.batchFactor > 0 && m.prices.batchFactor <= 1, m.id);
  }
});

test('thinking levels: a default among the levels; upper-case names exist in the API enum', () => {
  for (const m of served) {
    if (m.thinking.kind !== 'levels') continue;
    assert.ok(m.thinking.levels.includes(m.thinking.default), m.id);
    for (const l of m.thinking.levels) assert.ok(['MINIMAL', 'LOW', 'MEDIUM', 'HIGH'].includes(l.toUpperCase()));
  }
});

/** The facts a model defines, each of which must carry a source. */
function definedFacts(m: ModelInfo): FactName[] {
  const facts: FactName[] = (['status', 'replacement', 'released', 'deprecated', 'shutdown'] as const).filter((f) => m[f] !== undefined);
  if (m.status !== 'shut_down') {
    facts.push('aspectRatios', 'sizes', 'thinking', 'tokensPerImage', 'prices', 'batchFactor');
    if (m.defaultSize !== undefined) facts.push('defaultSize');
    if (m.maxReferenceImages !== undefined) facts.push('maxReferenceImages');
    if (m.inputTokenLimit !== undefined || m.outputTokenLimit !== undefined) facts.push('tokenLimits');
    if (m.vertex !== undefined) facts.push('vertex');
  }
  return facts;
}

test('every fact has a source: a public https URL, a date and a confidence', () => {
  for (const m of MODELS) {
    for (const fact of definedFacts(m)) {
      const s = m.sources[fact];
      assert.ok(s, `${m.id}: ${fact} has no source`);
      assert.match(s.url, /^https:\/\/[^\s]+$/, `${m.id}: ${fact}`);
      assert.match(s.date, /^20\d{2}-\d{2}-\d{2}$/, `${m.id}: ${fact}`);
      assert.ok(['H', 'M', 'L'].includes(s.confidence), `${m.id}: ${fact}`);
    }
  }
});

test('the registry is frozen', () => {
  const m = findModel(DEFAULT_MODEL)!;
  assert.ok(Object.isFrozen(MODELS) && Object.isFrozen(m) && Object.isFrozen(m.sizes) && Object.isFrozen(m.prices!.perImage));
  assert.throws(() => {
    (m.sizes as string[]).push('8K');
  });
});

test('the emulator serves exactly the registry models that are not shut down', () => {
  for (const m of MODELS) assert.equal(DEFAULT_MODELS.includes(m.id), m.status !== 'shut_down', m.id);
});

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('no model id is written anywhere in src/ outside src/models/', () => {
  const ids = MODELS.map((m) => m.id);
  const hits: string[] = [];
  for (const file of tsFiles('src')) {
    if (file.startsWith(join('src', 'models'))) continue;
    const text = readFileSync(file, 'utf8');
    for (const id of ids) if (text.includes(`${id}'`) || text.includes(`${id}"`) || text.includes(`${id}\``) || text.includes(`${id} `)) hits.push(`${file}: ${id}`);
  }
  assert.deepEqual(hits, []);
});
