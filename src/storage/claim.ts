// Choosing where an image goes without ever replacing what is not ours. An output name is reused only when the file
// there is this job's own earlier file: a manifest line of this job names it and the bytes still hash to what that
// line recorded, or no line names it and the provenance imagebatch writes into every image (PNG iTXt record, else
// the sidecar) carries this job's key (a crash came between the image and its line). Anything else there (a user's
// file, an edited image, another job's image such as the 1:1 picture of a prompt now re-run at 16:9, a symbolic
// link) keeps its name and the new image gets `-2`, `-3`, ... A directory at the name is an OutputConflictError:
// the caller records a failure for that job and the run goes on.
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { StorageError } from '../errors.ts';
import { readManifest } from './manifest.ts';
import { confinedPath } from './names.ts';
import { isPng, readPngText, sidecarName } from './metadata.ts';

/** The output name is held by a directory, which imagebatch never replaces. */
export class OutputConflictError extends StorageError {}

/** After `-2` … `-999` all taken, something is wrong with the folder: stop looking. */
const MAX_SUFFIX = 999;

/** `0001-fox.png` → `0001-fox-2.png`. */
export function withSuffix(name: string, n: number): string {
  if (n <= 1) return name;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)}-${n}${name.slice(dot)}` : `${name}-${n}`;
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The job key imagebatch wrote into the image (PNG iTXt record) or its sidecar, if any. */
async function provenanceKey(path: string): Promise<string | undefined> {
  try {
    const data = await readFile(path);
    const record = isPng(data) ? readPngText(data).imagebatch : (await readFile(sidecarName(path), 'utf8').catch(() => undefined));
    const key: unknown = record === undefined ? undefined : (JSON.parse(record) as { key?: unknown }).key;
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}

export class OutputNames {
  private readonly dir: string;
  /** Names chosen by this run (being written or written), so two jobs in flight never pick the same one. */
  private readonly claimed = new Set<string>();
  /** name → `key sha256` of every manifest line that wrote it; read on the first name found taken. */
  private owners: Promise<Map<string, Set<string>>> | undefined;
  /**
   * The folder's names when the first name was claimed: a name neither listed nor claimed since is free without an
   * lstat (one per image, and one failed call with its error object, was a sixth of a batch fetch's CPU). The lock
   * keeps other runs out; a file someone else creates in the folder during the run is not seen.
   */
  private listing: Promise<Set<string>> | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * The name to write `base` under for job `key`: base itself when free or this job's own earlier file, else the
   * first free `-N` variant. `companions`: suffixes of files written next to the image (`.json` provenance for
   * a JPEG or a PNG that cannot carry it), whose names must be free too unless the image is this job's own.
   */
  async claim(base: string, key: string, companions: readonly string[] = []): Promise<string> {
    const listed = await (this.listing ??= readdir(this.dir).then((names) => new Set(names)));
    for (let n = 1; n <= MAX_SUFFIX; n++) {
      const name = withSuffix(base, n);
      if (this.claimed.has(name)) continue;
      this.claimed.add(name); // held across the awaits below; given back when unusable
      try {
        const path = confinedPath(this.dir, name);
        if (!listed.has(name) && companions.every((suffix) => !listed.has(`${name}${suffix}`))) return name;
        const st = await lstatOrUndefined(path);
        if (st?.isDirectory() && n === 1) {
          throw new OutputConflictError(path, `${name} is a directory in the output folder; imagebatch never replaces it (rename or remove it and run again)`);
        }
        let side = false;
        for (const suffix of companions) side ||= (await lstatOrUndefined(confinedPath(this.dir, `${name}${suffix}`))) !== undefined;
        if (!st && !side) return name;
        if (st?.isFile() && (await this.ownedBy(name, path, key))) return name;
      } catch (e) {
        this.claimed.delete(name);
        throw e;
      }
      this.claimed.delete(name);
    }
    throw new StorageError(confinedPath(this.dir, base), `${base} and ${MAX_SUFFIX - 1} numbered variants of it are all taken`);
  }

  /** Records a file this run wrote, so a later job of the same key may replace it and others route around it. */
  async wrote(name: string, key: string, sha256: string): Promise<void> {
    if (!this.owners) return; // not loaded yet: loading will read this file's manifest line
    const owners = await this.owners;
    let set = owners.get(name);
    if (!set) owners.set(name, (set = new Set()));
    set.add(`${key} ${sha256}`);
  }

  /** A claimed name that was not written after all (the write failed). */
  release(name: string): void {
    this.claimed.delete(name);
  }

  private async ownedBy(name: string, path: string, key: string): Promise<boolean> {
    this.owners ??= this.loadOwners();
    const records = (await this.owners).get(name);
    // No manifest line names it: either a stranger's file or ours from a crash between the image and its line.
    if (!records) return (await provenanceKey(path)) === key;
    if (![...records].some((r) => r.startsWith(`${key} `))) return false;
    return records.has(`${key} ${await hashFile(path)}`);
  }

  private async loadOwners(): Promise<Map<string, Set<string>>> {
    const owners = new Map<string, Set<string>>();
    for await (const e of readManifest(this.dir)) {
      for (const f of e.files) {
        let set = owners.get(f.path);
        if (!set) owners.set(f.path, (set = new Set()));
        set.add(`${e.key} ${f.sha256}`);
      }
    }
    return owners;
  }
}
