// ARCHITECTURE.md's module boundaries, checked from the import lines of src/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve('src');

interface Import {
  file: string; // relative to src/
  target: string; // resolved relative to src/, or the bare specifier
  typeOnly: boolean;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

// import/export … from '…' (type-only included), bare import '…', and import('…').
const IMPORT_RE = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

function importsOf(path: string): Import[] {
  const text = readFileSync(path, 'utf8');
  const out: Import[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[3] ?? m[4] ?? m[5]!;
    const target = spec.startsWith('.') ? relative(SRC, resolve(dirname(path), spec)) : spec;
    out.push({ file: relative(SRC, path), target, typeOnly: Boolean(m[2]) });
  }
  return out;
}

const all = files(SRC).flatMap(importsOf);
const within = (dir: string) => all.filter((i) => i.file.startsWith(`${dir}/`));
const show = (list: Import[]) => list.map((i) => `${i.file} -> ${i.target}`).join('\n');

test('the rule checker sees the imports it is meant to check', () => {
  // Guards against a regex that silently matches nothing (a check that cannot fail).
  assert.ok(all.length > 50, `only ${all.length} imports found`);
  assert.ok(within('scheduler').length > 0 && within('cli').length > 0 && within('emulator').length > 0);
});

test('scheduler/ knows nothing of Gemini, fetch or the disk', () => {
  const bad = within('scheduler').filter(
    (i) => /^(gemini|storage|emulator|cli|report|input|batch|run)/.test(i.target) || /^node:(fs|http|https|net|child_process)/.test(i.target) || i.target === 'fs',
  );
  assert.equal(bad.length, 0, show(bad));
});

test('gemini/ knows nothing of the scheduler (one retry policy, in scheduler/retry.ts)', () => {
  const bad = within('gemini').filter((i) => /^(scheduler|storage|cli|emulator|run)/.test(i.target));
  assert.equal(bad.length, 0, show(bad));
});

test('batch/ and core/ do not import the streaming composition (streaming is handed to batch as a function)', () => {
  const bad = [...within('batch'), ...within('core')].filter((i) => /^run(-disk|-batch)?\.ts$/.test(i.target) || (i.file.startsWith('core/') && /^(batch|cli)\//.test(i.target)));
  assert.equal(bad.length, 0, show(bad));
  assert.ok(within('core').length > 0, 'core/ has no imports: the check would pass vacuously');
});

test('cli/ reaches the emulator only through its entry', () => {
  // The CLI may import library modules directly (the public index stays small); the emulator is a separate product.
  const local = within('cli').filter((i) => i.target.endsWith('.ts'));
  const bad = local.filter((i) => i.target.startsWith('emulator/') && i.target !== 'emulator/index.ts');
  assert.equal(bad.length, 0, show(bad));
});

test('emulator/ shares only wire types and the model registry (data) with the client', () => {
  const local = within('emulator').filter((i) => i.target.endsWith('.ts'));
  const ok = (i: Import) =>
    /^(emulator|internal|models)\//.test(i.target) || (i.target === 'gemini/wire.ts' && i.typeOnly);
  const bad = local.filter((i) => !ok(i));
  assert.equal(bad.length, 0, show(bad));
  assert.ok(local.some((i) => i.target.startsWith('models/')), 'the emulator derives its line-up from the registry');
});

test('models/ is data and lookups: it imports nothing else of src/', () => {
  const bad = within('models').filter((i) => i.target.endsWith('.ts') && !i.target.startsWith('models/'));
  assert.equal(bad.length, 0, show(bad));
});

test('Redis stays in quota/: the scheduler only knows its Coordinator interface, and ioredis is imported lazily', () => {
  const schedulerBad = within('scheduler').filter((i) => /^(quota\/|ioredis)/.test(i.target));
  assert.equal(schedulerBad.length, 0, show(schedulerBad));
  const redisUsers = all.filter((i) => i.target === 'ioredis');
  assert.ok(redisUsers.length > 0, 'no ioredis import found: the check would pass vacuously');
  const outside = redisUsers.filter((i) => !i.file.startsWith('quota/'));
  assert.equal(outside.length, 0, show(outside));
  // A value import of ioredis is a dynamic import() (only a --shared-quota run pays for it); static ones are types.
  const text = readFileSync(join(SRC, 'quota/connect.ts'), 'utf8');
  assert.match(text, /await import\('ioredis'\)/);
  assert.ok(redisUsers.every((i) => i.typeOnly || /import\(/.test(readFileSync(join(SRC, i.file), 'utf8'))), show(redisUsers));
});

/** Every import cycle among `paths` (relative imports only, type-only ones included), each as a path of files. */
function cyclesOf(paths: string[]): string[][] {
  const ROOT = resolve('.');
  const graph = new Map<string, string[]>();
  for (const p of paths) {
    const text = readFileSync(p, 'utf8');
    const targets = [...text.matchAll(IMPORT_RE)].map((m) => m[3] ?? m[4] ?? m[5]!).filter((spec) => spec.startsWith('.'));
    graph.set(relative(ROOT, p), targets.map((spec) => relative(ROOT, resolve(dirname(p), spec))));
  }
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

test('no import cycles in src/ or bench/, type-only imports included', () => {
  const cycles = cyclesOf([...files(SRC), ...files(resolve('bench'))]);
  assert.deepEqual(cycles.map((c) => c.join(' -> ')), []);
});

test('the cycle check finds a cycle, type-only included (it can fail)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imagebatch-cycle-'));
  try {
    writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.ts';\nexport type A = B;\n");
    writeFileSync(join(dir, 'b.ts'), "import { c } from './c.ts';\nexport type B = number;\nexport const b = c;\n");
    writeFileSync(join(dir, 'c.ts'), "export type { A } from './a.ts';\nexport const c = 1;\n");
    const cycles = cyclesOf(files(dir));
    assert.equal(cycles.length, 1);
    assert.deepEqual(cycles[0]!.map((f) => f.split(/[\\/]/).pop()), ['a.ts', 'b.ts', 'c.ts', 'a.ts']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
