// The project's own lint rules fire where they should (a rule that never fires is a check that cannot fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const eslint = new ESLint();
const ruleHits = async (filePath: string, code: string, rule: string) =>
  (await eslint.lintText(code, { filePath }))[0]!.messages.filter((m) => m.ruleId === rule).length;

test('Date.now() is banned in src/ outside the clock module and the emulator', async () => {
  const code = 'export const t = (): number => Date.now();\n';
  assert.equal(await ruleHits('src/batch/example.ts', code, 'no-restricted-properties'), 1);
  assert.equal(await ruleHits('src/run-disk.ts', code, 'no-restricted-properties'), 1);
  assert.equal(await ruleHits('src/internal/clock.ts', code, 'no-restricted-properties'), 0);
  assert.equal(await ruleHits('src/emulator/example.ts', code, 'no-restricted-properties'), 0);
});
