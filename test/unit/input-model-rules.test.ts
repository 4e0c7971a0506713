// Per-model validation before anything is sent: the registry's sizes, ratios and thinking levels, reported as
// `file:line: field: …` for a line and as an option error for a run-wide flag; unknown models pass unchanged.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionError, formatIssue } from '../../src/errors.ts';
import { buildRequest } from '../../src/gemini/request.ts';
import { jobKey, openInput, readJobs, validateInput } from '../../src/input/index.ts';
import { DEFAULT_MODEL } from '../../src/models/index.ts';
import { all, scratchFolder } from '../helpers/files.ts';

const scratch = scratchFolder('ib-model-rules-');
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

async function problems(rows: object[], options = {}): Promise<string[]> {
  const p = await scratch.file(`rules-${Math.random().toString(36).slice(2)}.jsonl`, jsonl(rows));
  const { issues } = await validateInput(p, options);
  return issues.map((i) => formatIssue(i).replace(/^.*?\.jsonl:/, ''));
}

describe('per-model validation table', () => {
  const cases: Array<[string, object, RegExp | undefined]> = [
    ['512 on the default model', { prompt: 'a', imageSize: '512' }, /^1: imageSize: gemini-nano-banana-2\.1 does not take 512; it takes 1K, 2K, 4K$/],
    ['4K on the default model', { prompt: 'a', imageSize: '4K' }, undefined],
    ['2K on Lite', { prompt: 'a', model: 'gemini-3.1-flash-lite-image', imageSize: '2K' }, /^1: imageSize: gemini-3\.1-flash-lite-image does not take 2K; it takes 1K$/],
    ['any size on 2.5', { prompt: 'a', model: 'gemini-2.5-flash-image', imageSize: '1K' }, /^1: imageSize: gemini-2\.5-flash-image takes no image size/],
    ['8:1 on Pro', { prompt: 'a', model: 'gemini-3-pro-image', aspectRatio: '8:1' }, /^1: aspectRatio: gemini-3-pro-image does not take 8:1/],
    ['8:1 on the default model', { prompt: 'a', aspectRatio: '8:1' }, undefined],
    ['512 on 3.1-flash-image', { prompt: 'a', model: 'gemini-3.1-flash-image', imageSize: '512' }, undefined],
    ['a level on Pro (always thinks)', { prompt: 'a', model: 'gemini-3-pro-image', thinking: 'high' }, /^1: thinking: gemini-3-pro-image always thinks and takes no thinking level$/],
    ['medium on Lite', { prompt: 'a', model: 'gemini-3.1-flash-lite-image', thinking: 'medium' }, /^1: thinking: gemini-3\.1-flash-lite-image does not take medium; it takes minimal, high$/],
    ['high on the default model', { prompt: 'a', thinking: 'high' }, undefined],
    ['a level on 2.5', { prompt: 'a', model: 'gemini-2.5-flash-image', thinking: 'minimal' }, /^1: thinking: gemini-2\.5-flash-image does not think$/],
    ['a misspelt level', { prompt: 'a', thinking: 'max' }, /^1: thinking: must be one of minimal, low, medium, high$/],
    ['anything on a model newer than the registry', { prompt: 'a', model: 'gemini-9-image', imageSize: '512', thinking: 'low' }, undefined],
  ];
  for (const [name, row, expected] of cases) {
    test(name, async () => {
      const found = await problems([row]);
      if (expected === undefined) assert.deepEqual(found, []);
      else {
        assert.equal(found.length, 1, found.join('\n'));
        assert.match(found[0]!, expected);
      }
    });
  }

  test('every bad line is reported, with its own line number, in one pass', async () => {
    const found = await problems([{ prompt: 'ok' }, { prompt: 'b', imageSize: '512' }, { prompt: 'ok 2' }, { prompt: 'c', model: 'gemini-3-pro-image', thinking: 'low' }]);
    assert.deepEqual(found.map((f) => f.split(':')[0]), ['2', '4']);
  });

  test('a run-wide value inherited by a line names the flag', async () => {
    const found = await problems([{ prompt: 'a', model: 'gemini-3.1-flash-lite-image' }], { imageSize: '4K' });
    assert.match(found[0] ?? '', /imageSize: gemini-3\.1-flash-lite-image does not take 4K \(set by --image-size\)/);
  });

  test('a run-wide value the run model does not take is one option error, not one per line', async () => {
    const p = await scratch.file('many.txt', 'a\nb\nc\n');
    await assert.rejects(validateInput(p, { imageSize: '512' }), (e: unknown) => e instanceof OptionError && e.option === 'imageSize' && /gemini-nano-banana-2\.1 takes \(1K, 2K, 4K\)/.test(e.message));
    await assert.rejects(validateInput(p, { model: 'gemini-3-pro-image', thinking: 'high' }), (e: unknown) => e instanceof OptionError && e.option === 'thinking');
    await assert.rejects(validateInput(p, { thinking: 'max' as 'high' }), (e: unknown) => e instanceof OptionError && e.option === 'thinking');
  });

  test('openInput lists every distinct model of the input (for the preflight)', async () => {
    const p = await scratch.file('models.jsonl', jsonl([{ prompt: 'a' }, { prompt: 'b', model: 'gemini-3-pro-image' }, { prompt: 'c', model: 'gemini-3-pro-image' }]));
    const input = await openInput(p);
    await input.cleanup();
    assert.deepEqual(input.models.sort(), [DEFAULT_MODEL, 'gemini-3-pro-image'].sort());
  });
});

describe('thinking', () => {
  test('a level goes into generationConfig.thinkingConfig.thinkingLevel, upper-case; none, nothing', async () => {
    const p = await scratch.file('think.jsonl', jsonl([{ prompt: 'a', thinking: 'high' }, { prompt: 'b' }]));
    const [a, b] = await all(readJobs(p, { thinking: 'minimal' }));
    assert.equal(a!.thinking, 'high');
    assert.equal(b!.thinking, 'minimal');
    assert.deepEqual(buildRequest(a!).generationConfig?.thinkingConfig, { thinkingLevel: 'HIGH' });
    assert.equal(buildRequest({ key: 'k', index: 0, prompt: 'x' }).generationConfig?.thinkingConfig, undefined);
  });

  test('the job key includes the level (and stays as before without one)', () => {
    const plain = jobKey({ prompt: 'x' }, DEFAULT_MODEL);
    const high = jobKey({ prompt: 'x', thinking: 'high' }, DEFAULT_MODEL);
    assert.notEqual(plain, high);
    assert.notEqual(high, jobKey({ prompt: 'x', thinking: 'minimal' }, DEFAULT_MODEL));
    assert.equal(plain, jobKey({ prompt: 'x', thinking: undefined }, DEFAULT_MODEL));
  });
});
