// stdin can be read once, but validation and reading are two passes: copy it to a temp file first.
import { createWriteStream, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** One copy per stream, so validateInput('-') and readJobs('-') on the same stdin read the same bytes. */
const spools = new WeakMap<Readable, Promise<string>>();
const dirs = new Map<string, string>();
let exitHook = false;

/**
 * Copies the stream to `<tmpdir>/imagebatch-stdin-XXXXXX/input` once and returns that path. The copy is removed by
 * releaseStdin (openInput's cleanup does it) or, failing that, when the process exits.
 */
export function spoolStdin(stdin: Readable, signal?: AbortSignal): Promise<string> {
  const existing = spools.get(stdin);
  if (existing) return existing;
  const p = (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'imagebatch-stdin-'));
    const file = join(dir, 'input');
    dirs.set(file, dir);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const d of dirs.values()) rmSync(d, { recursive: true, force: true });
      });
    }
    await pipeline(stdin, createWriteStream(file), { signal });
    return file;
  })();
  spools.set(stdin, p);
  return p;
}

export async function releaseStdin(stdin: Readable): Promise<void> {
  const p = spools.get(stdin);
  if (!p) return;
  spools.delete(stdin);
  const file = await p.catch(() => undefined);
  const dir = file ? dirs.get(file) : undefined;
  if (file) dirs.delete(file);
  if (dir) await rm(dir, { recursive: true, force: true });
}
