// Spawns the real CLI (bin/imagebatch.js) as a child process in a temp folder, with an environment that holds
// no API key, base URL or cache folder of the developer's own unless a test sets one on purpose.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/imagebatch.js', import.meta.url));
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Working folder (a temp folder: relative --out paths land there). */
  cwd: string;
  /** Added to the clean environment; undefined removes a variable. @default {} */
  env?: Record<string, string | undefined>;
  /** Written to stdin, then stdin is closed. @default '' */
  stdin?: string;
  /** Kills the child (SIGKILL) after this long, so a hang fails the test instead of the suite. @default 15000 */
  timeoutMs?: number;
}

const SCRUBBED = [
  'GEMINI_API_KEY',
  'GOOGLE_API_KEY',
  'GEMINI_BASE_URL',
  'GOOGLE_GEMINI_BASE_URL',
  'IMAGEBATCH_CACHE_DIR',
  'IMAGEBATCH_SHARED_QUOTA',
  'NO_COLOR',
  'FORCE_COLOR',
  'CI',
  'GOOGLE_GENAI_USE_VERTEXAI',
  'GOOGLE_CLOUD_PROJECT',
  'GCLOUD_PROJECT',
  'GOOGLE_CLOUD_LOCATION',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'GCE_METADATA_HOST',
  'GCE_METADATA_IP',
];

/** The child's environment: ours without keys and overrides, the cache inside cwd, plus `extra`. */
export function cleanEnv(cwd: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of SCRUBBED) delete env[k];
  // Never the developer's real ~/.cache/imagebatch, gcloud credentials or the link-local metadata server.
  env.IMAGEBATCH_CACHE_DIR = `${cwd}/.cache`;
  env.CLOUDSDK_CONFIG = `${cwd}/.gcloud`;
  env.METADATA_SERVER_DETECTION = 'none';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything printed so far (grows while the child runs). */
  output(): { stdout: string; stderr: string };
  done: Promise<CliResult>;
}

/** Starts the CLI and returns at once, for tests that signal it while it runs. */
export function spawnCli(args: string[], options: CliOptions): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: cleanEnv(options.cwd, options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  child.stdin.end(options.stdin ?? '');
  return { child, output: () => ({ stdout, stderr }), done };
}

export function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  return spawnCli(args, options).done;
}

/** Lines of a text, without the empty last one. */
export const linesOf = (s: string): string[] => s.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
