// Child process for the "killed mid-run" test: starts its own emulator (big images, so writes take time)
// and runs runToDisk into argv[2]; prints "saved <n>" after each saved result so the parent knows when to kill.
import { startEmulator } from '../../src/emulator/index.ts';
import { runToDisk } from '../../src/run-disk.ts';

const out = process.argv[2];
const count = Number(process.argv[3] ?? 12);
if (!out) throw new Error('usage: disk-worker.ts <out> [count]');
const emu = await startEmulator({ seed: 3, imageBytes: 3_000_000 });
let saved = 0;
try {
  await runToDisk(
    Array.from({ length: count }, (_, i) => `killed run prompt ${i}`),
    {
      apiKey: 'worker-key',
      baseUrl: emu.url,
      out,
      cacheDir: false,
      concurrency: 4,
      fsync: 'always',
      onResult: () => process.stdout.write(`saved ${++saved}\n`),
    },
  );
} finally {
  await emu.close();
}
