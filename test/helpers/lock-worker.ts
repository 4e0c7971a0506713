// Child process for the folder-lock tests.
//   hold <dir>                       takes the lock, prints "locked", holds it until killed
//   race <goFile> <slotMs> <dir>...  waits for goFile, then at slot i tries to lock dir i (never releasing a win);
//                                    prints "won <i>" / "lost <i>" / "error <i> <message>" per dir, then "end",
//                                    and holds its wins until stdin closes
import { existsSync } from 'node:fs';
import { StorageError } from '../../src/errors.ts';
import { lockFolder } from '../../src/storage/lock.ts';

const [mode, ...args] = process.argv.slice(2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (mode === 'hold') {
  await lockFolder(args[0]!);
  process.stdout.write('locked\n');
  setInterval(() => {}, 60_000);
} else if (mode === 'race') {
  const [goFile, slot, ...dirs] = args;
  const slotMs = Number(slot);
  process.stdout.write('ready\n');
  while (!existsSync(goFile!)) await sleep(2);
  const t0 = performance.now();
  const lines: string[] = [];
  for (const [i, dir] of dirs.entries()) {
    const wait = t0 + i * slotMs - performance.now();
    if (wait > 0) await sleep(wait);
    try {
      await lockFolder(dir);
      lines.push(`won ${i}`);
    } catch (e) {
      lines.push(e instanceof StorageError && /another imagebatch run/.test(e.message) ? `lost ${i}` : `error ${i} ${(e as Error).message}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\nend\n`);
  // Stay alive (holding every lock won) until the parent closes stdin: a winner that exited early would rightly
  // lose its lock to a slower racer.
  process.stdin.resume();
  await new Promise((r) => process.stdin.on('end', r));
} else {
  throw new Error('usage: lock-worker.ts hold <dir> | race <goFile> <slotMs> <dir>...');
}
