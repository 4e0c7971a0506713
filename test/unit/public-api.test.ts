// The public surface is a decision: every name 'imagebatch' and 'imagebatch/testing' export (types included) is
// listed here, so adding or removing one fails until this list is changed with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

/** Names a module exports, read from its syntax (parsing only, no type check): named re-exports, `export *` followed. */
function exportsOf(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022);
  const names: string[] = [];
  const exported = (n: ts.Node) => ts.canHaveModifiers(n) && (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const st of sf.statements) {
    if (ts.isExportDeclaration(st)) {
      const from = st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier) ? resolve(dirname(file), st.moduleSpecifier.text) : undefined;
      if (st.exportClause && ts.isNamedExports(st.exportClause)) names.push(...st.exportClause.elements.map((e) => e.name.text));
      else if (from) names.push(...exportsOf(from));
    } else if (exported(st)) {
      if (ts.isVariableStatement(st)) names.push(...st.declarationList.declarations.map((d) => d.name.getText(sf)));
      else if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st) || ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st) || ts.isEnumDeclaration(st)) && st.name) names.push(st.name.text);
    }
  }
  return [...new Set(names)].sort();
}

const INDEX = [
  'ApiError', 'AuthError', 'BatchBudgetError', 'BatchClientOptions', 'BatchError', 'BatchEvent', 'BatchListEntry', 'BatchRecord',
  'BatchStatusEntry', 'BillingError', 'BudgetExceededError', 'ChooseModeOptions', 'Clock', 'CollectOptions', 'CollectResult',
  'DEFAULTS', 'DEFAULT_MODEL', 'ErrorCode', 'ErrorOutcome', 'ErrorReason', 'FailedResult', 'FailureReason', 'GeminiClient',
  'GeminiClientOptions', 'GenerateImagesOptions', 'GenerateOptions', 'ImageBatchError', 'ImageData', 'ImageSize', 'InputError',
  'InputIssue', 'InputOptions', 'Job', 'JobInput', 'JobSource', 'JobsSource', 'ListModelsOptions', 'ManifestEntry', 'ManifestFile', 'MODELS',
  'ModeChoice', 'ModelInfo', 'ModelNotFoundError', 'ModelPrices', 'ModelQuotaStatus', 'ModelResource', 'ModelStatus', 'OptionError', 'Outcome',
  'PermissionError', 'PreflightOptions', 'QuotaExhaustedError', 'QuotaStatus', 'QuotaViolationInfo', 'RecordCounts', 'ReferenceImage', 'Result',
  'RunBatchOptions', 'RunEvent', 'RunLevelError', 'RunMode', 'RunSummary', 'RunToDiskOptions', 'SavedImage', 'SharedQuotaOptions',
  'Source', 'StatusOptions', 'SharedQuotaUnavailableError', 'StorageError', 'StreamRunner', 'SubmitOptions', 'SubmitResult', 'SucceededResult', 'ThinkingLevel',
  'ThinkingSupport', 'UnpricedPart', 'Usage', 'VERSION', 'WaitOptions', 'batchStatus', 'cancelBatch', 'chooseMode', 'collectBatch', 'findModel',
  'formatIssue', 'generateImages', 'getModel', 'isApiError', 'isAuthError', 'isBatchBudgetError', 'isBillingError',
  'isImageBatchError', 'isInputError', 'isOptionError', 'isQuotaExhaustedError', 'isRunLevelError', 'listBatches', 'listModels', 'openInput', 'preflightModels',
  'readJobs', 'readManifest', 'readThoughtSignature', 'replacementFor', 'runBatch', 'runToDisk', 'sharedQuotaStatus', 'submitBatch', 'validateInput',
  'waitForBatch', 'Backend', 'VertexOptions', 'vertexBackend', 'vertexFromEnv',
];

const TESTING = ['Clock', 'FakeClock', 'flushMicrotasks', 'seededRandom', 'systemClock'];

test('the export lists of imagebatch and imagebatch/testing are exactly the decided ones', () => {
  const diff = (actual: string[], decided: string[]) => ({
    added: actual.filter((n) => !decided.includes(n)),
    removed: decided.filter((n) => !actual.includes(n)),
  });
  assert.deepEqual(diff(exportsOf('src/index.ts'), INDEX), { added: [], removed: [] }, 'src/index.ts: update INDEX in this test if the change is meant');
  assert.deepEqual(diff(exportsOf('src/testing.ts'), TESTING), { added: [], removed: [] }, 'src/testing.ts: update TESTING in this test if the change is meant');
});

test('the export reader sees a re-export it was not told about (the snapshot can fail)', () => {
  const names = exportsOf('src/index.ts');
  assert.ok(names.includes('generateImages') && names.includes('RunSummary') && names.includes('ApiError'), names.join(', '));
  assert.ok(!names.includes('FakeClock'), 'FakeClock belongs to imagebatch/testing');
});
