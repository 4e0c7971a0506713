#!/usr/bin/env node
// An installed package runs the compiled CLI (dist/, built by `npm pack`): no TypeScript loader at run time, which
// costs ~35 MB of RSS and start-up time. A checkout of the repository (it has tsconfig.json, which is not shipped)
// runs the TypeScript source through tsx, so a stale dist/ can never run instead of the code being edited.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
const checkout = existsSync(new URL('../tsconfig.json', import.meta.url));
let main;
if (!checkout && existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
