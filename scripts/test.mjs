// Runs every *.test.ts under test/ with Node's own runner (Node 20 has no --test globbing),
// and fails when no test ran, so an empty or mis-globbed suite can never pass.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = find('test').filter((f) => filter.length === 0 || filter.some((x) => f.includes(x))).sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// No test may reach Google's link-local metadata server: Google auth never probes for it unless a test points
// GCE_METADATA_HOST at the emulator and turns detection back on for itself.
const env = { ...process.env, METADATA_SERVER_DETECTION: 'none' };
delete env.GCE_METADATA_HOST;
delete env.GCE_METADATA_IP;
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env,
});
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4000);
});
child.on('close', (code) => {
  const m = /ℹ tests (\d+)/.exec(tail);
  if (!m || Number(m[1]) === 0) {
    console.error('the test runner reported no test executed');
    process.exit(1);
  }
  process.exit(code ?? 1);
});
