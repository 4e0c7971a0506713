// A temp folder per test file, with a one-line way to put a file in it.
import { after, before } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Registers before/after hooks that create and remove a temp folder; `file()` writes into it and returns the path. */
export function scratchFolder(prefix: string): { dir: () => string; file: (name: string, content: string | Buffer) => Promise<string> } {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return {
    dir: () => dir,
    file: async (name, content) => {
      const p = join(dir, name);
      await writeFile(p, content);
      return p;
    },
  };
}

/** Drains an async iterable into an array. */
export async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
