#!/usr/bin/env node
// An installed package runs the compiled CLI (dist/, built by `npm pack`): no TypeScript loader at run time, which
// costs ~35 MB of RSS and start-up time. A checkout of the repository (it has tsconfig.json, which is not shipped)
// runs the TypeScript source through tsx (a dev dependency), so a stale dist/ can never run instead of the code being
// edited. A checkout installed without dev dependencies runs dist/ if it was built, else says how to build it.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
const checkout = existsSync(new URL('../tsconfig.json', import.meta.url));

async function tsxLoader() {
  try {
    return await import('tsx/esm/api');
  } catch (e) {
    if (e?.code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}

let main;
const tsx = !checkout && existsSync(compiled) ? undefined : await tsxLoader();
if (tsx) {
  tsx.register();
  ({ main } = await import('../src/cli/main.ts'));
} else if (existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  process.stderr.write('imagebatch: the compiled CLI (dist/) is missing and tsx is not installed: run `npm run build` (or `npm ci` for the dev dependencies).\n');
  process.exit(2);
}
process.exitCode = await main(process.argv.slice(2));
