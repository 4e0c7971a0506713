// This package's version, read once from its package.json (src/ and dist/ both sit two levels below it as
// src/internal/ and dist/internal/), so a release bumps one file.
import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
