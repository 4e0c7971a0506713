// `imagebatch report <dir>`: rebuild summary.json and index.html of an output folder from the manifest it reads,
// so the numbers and the cards always come from the same lines.
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeSummary } from '../core/summary.ts';
import { StorageError } from '../errors.ts';
import { describeLines } from '../report/format.ts';
import { writeGallery } from '../report/gallery.ts';
import { MANIFEST_FILE, assertPlainManifest, readManifest } from '../storage/manifest.ts';

/** A sentence for each way `dir` is not a folder with a manifest (StorageError, exit 2), not a raw ENOENT/ENOTDIR/EISDIR. */
async function checkFolder(dir: string): Promise<void> {
  const st = await stat(dir).catch((e: NodeJS.ErrnoException) => e);
  if (st instanceof Error) {
    if (st.code === 'ENOENT' || st.code === 'ENOTDIR') throw new StorageError(dir, `no output folder at ${dir}`);
    throw new StorageError(dir, `cannot read ${dir}: ${st.message}`);
  }
  if (!st.isDirectory()) throw new StorageError(dir, `${dir} is a file, not an output folder`);
  const manifest = join(dir, MANIFEST_FILE);
  await assertPlainManifest(manifest);
  if (!(await stat(manifest).catch(() => undefined))) throw new StorageError(dir, `${dir} has no ${MANIFEST_FILE}: nothing to report (is it an imagebatch output folder?)`);
}

/** Wall time as the lines tell it: from the first job's start to the last job's end. */
async function spanOf(dir: string): Promise<number> {
  let first = Infinity;
  let last = -Infinity;
  for await (const e of readManifest(dir)) {
    const end = Date.parse(e.finishedAt);
    if (!Number.isFinite(end)) continue;
    last = Math.max(last, end);
    first = Math.min(first, end - (e.latencyMs || 0));
  }
  return last > first ? last - first : 0;
}

export async function report(dir: string, err: (line: string) => void): Promise<string> {
  const root = resolve(dir);
  await checkFolder(root);
  const summary = await writeSummary(root, { wallMs: await spanOf(root) });
  const f = summary.folder;
  if (f?.damaged) err(`imagebatch: ${join(root, MANIFEST_FILE)}: ${f.damaged} damaged line(s) skipped (${describeLines(f.damagedLines ?? [], f.damaged)})`);
  return writeGallery(root);
}

export function addReportCommand(program: Command): void {
  program
    .command('report')
    .description('rebuild summary.json and the HTML gallery (index.html) of an output folder from its manifest')
    .argument('<dir>', 'output folder')
    .action(async (dir: string) => {
      const path = await report(dir, (line) => process.stderr.write(`${line}\n`));
      process.stdout.write(`${path}\n`);
    });
}
