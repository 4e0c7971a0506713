// Shared by the CLI durability tests (crash-resume, stop-signals): spawn the real CLI as a child process, read its
// output as it comes, and check an output folder against its manifest. Not a test file itself.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readManifest } from '../../src/storage/manifest.ts';
import type { ManifestEntry } from '../../src/storage/manifest.ts';

/** The repo root: the child runs here so `--import tsx` resolves; every path we pass it is absolute. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliRun {
  child: ChildProcess;
  /** Everything written to stdout / stderr so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once the process exited and its pipes are drained. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when stderr (or stdout) has shown text matching re. */
  waitFor(re: RegExp, stream?: 'stdout' | 'stderr'): Promise<void>;
}

export interface SpawnOptions {
  /** Extra environment (GEMINI_API_KEY=test is always set, inherited Gemini/cache variables removed). @default {} */
  env?: Record<string, string>;
}

/** `node --import tsx src/cli/main.ts ...args` with a scrubbed environment. */
export function spawnCli(args: string[], options: SpawnOptions = {}): CliRun {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(GEMINI_|GOOGLE_|IMAGEBATCH_|NODE_TEST|NODE_OPTIONS)/.test(k)) env[k] = v;
  }
  Object.assign(env, { GEMINI_API_KEY: 'test', NO_COLOR: '1' }, options.env ?? {});
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const watchers: { re: RegExp; stream: 'stdout' | 'stderr'; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...watchers]) {
      if (w.re.test(w.stream === 'stdout' ? out : err)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    check();
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    check();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    get stdout() {
      return out;
    },
    get stderr() {
      return err;
    },
    exited,
    waitFor(re, stream = 'stderr') {
      return new Promise<void>((resolve, reject) => {
        watchers.push({ re, stream, resolve });
        check();
        void exited.then(() => reject(new Error(`exited before ${stream} matched ${re}:\n${stream === 'stdout' ? out : err}`)));
      });
    },
  };
}

/** Resolves when pred() holds, polling every few ms; rejects after timeoutMs. */
export async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 3));
  }
}

export async function manifestLines(dir: string): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  for await (const e of readManifest(dir)) out.push(e);
  return out;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Checks the folder against its manifest: every file a succeeded line names exists with its recorded size and
 * sha256. Returns the problems found (empty when consistent) and the image files on disk.
 */
/** Every line's files (or only `lines`', e.g. the last line per key) must be on disk as recorded. */
export async function checkFolder(dir: string, lines?: ManifestEntry[]): Promise<{ problems: string[]; images: string[]; temps: string[] }> {
  const problems: string[] = [];
  for (const e of lines ?? (await manifestLines(dir))) {
    if (e.status !== 'succeeded') continue;
    for (const f of e.files) {
      const p = join(dir, f.path);
      const st = await stat(p).catch(() => undefined);
      if (!st) {
        problems.push(`${f.path}: missing`);
        continue;
      }
      if (st.size !== f.bytes) problems.push(`${f.path}: ${st.size} bytes, manifest says ${f.bytes}`);
      else if (sha256(await readFile(p)) !== f.sha256) problems.push(`${f.path}: sha256 differs`);
    }
  }
  const names = await readdir(dir);
  return { problems, images: names.filter((n) => /\.(png|jpg)$/.test(n)).sort(), temps: names.filter((n) => n.endsWith('.tmp')) };
}

/** A seeded PRNG, so kill timings and choices repeat from run to run. */
export { seededRandom as seeded } from '../../src/internal/random.ts';
