// `imagebatch models`: the model registry as a table (what exists, what it takes, what it costs, what replaces it);
// with a key, merged with the server's paged models.list so the user sees which models this key can call.
import type { Command } from 'commander';
import { startEmulator } from '../emulator/index.ts';
import { DEFAULT_MODEL, GeminiClient, MODELS, findModel, listModels, replacementFor } from '../index.ts';

const formatUsd = (usd: number): string => `$${usd.toFixed(4)}`;
import type { ModelInfo } from '../index.ts';

interface ModelsFlags {
  json: boolean;
  baseUrl?: string;
  emulator?: boolean;
  /** Do not ask the server even when a key is set. */
  offline?: boolean;
}

export interface ModelRow {
  id: string;
  name: string;
  status: string;
  default: boolean;
  sizes: string[];
  defaultSize?: string;
  aspectRatios: string[];
  thinking: string;
  /** USD per image at each size, standard and Batch mode. */
  pricePerImage: Record<string, { standard: number; batch: number }>;
  shutdown?: string;
  replacement?: string;
  /** With a key: whether models.list lists it for this key. */
  available?: boolean;
  /** Vertex AI availability, as the registry's sources say it. */
  vertex?: string;
}

function rowOf(m: ModelInfo): ModelRow {
  const thinking = m.thinking.kind === 'levels' ? `${m.thinking.levels.join('/')} (default ${m.thinking.default})` : m.thinking.kind;
  const pricePerImage: ModelRow['pricePerImage'] = {};
  for (const s of m.sizes) {
    const p = m.prices?.perImage[s];
    if (p !== undefined && m.prices) pricePerImage[s] = { standard: p, batch: Math.round(p * m.prices.batchFactor * 1e6) / 1e6 };
  }
  return {
    id: m.id,
    name: m.name,
    status: m.status,
    default: m.id === DEFAULT_MODEL,
    sizes: [...m.sizes],
    ...(m.defaultSize ? { defaultSize: m.defaultSize } : {}),
    aspectRatios: [...m.aspectRatios],
    thinking,
    pricePerImage,
    ...(m.shutdown ? { shutdown: m.shutdown } : {}),
    ...(m.replacement ? { replacement: replacementFor(m.id)?.id ?? m.replacement } : {}),
    ...(m.vertex ? { vertex: m.vertex } : {}),
  };
}

/** Registry rows, plus the server's view when `served` is given (ids the key may call). */
export function modelRows(served?: Set<string>): ModelRow[] {
  const rows = MODELS.map(rowOf);
  if (!served) return rows;
  for (const r of rows) r.available = served.has(r.id);
  // Image models the server lists that this release does not know: usable, price and capabilities unknown.
  for (const id of served) {
    if (findModel(id) || !/image/i.test(id)) continue;
    rows.push({ id, name: '(not in this release)', status: 'unknown', default: false, sizes: [], aspectRatios: [], thinking: 'unknown', pricePerImage: {}, available: true });
  }
  return rows;
}

function table(rows: ModelRow[]): string {
  const head = ['id', 'name', 'status', 'sizes', '$/image std', '$/image batch', 'replacement'];
  if (rows.some((r) => r.available !== undefined)) head.push('this key');
  const lines = rows.map((r) => {
    const size = r.defaultSize ?? r.sizes[0];
    const price = size ? r.pricePerImage[size] : undefined;
    const priceText = (n: number | undefined) => (n === undefined ? '-' : `${formatUsd(n)}${r.sizes.length > 1 ? ` (${size})` : ''}`);
    const cells = [
      `${r.id}${r.default ? ' *' : ''}`,
      r.name,
      r.status + (r.shutdown ? ` ${r.shutdown}` : ''),
      r.sizes.join(',') || '-',
      priceText(price?.standard),
      priceText(price?.batch),
      r.replacement ?? '',
    ];
    if (r.available !== undefined) cells.push(r.available ? 'yes' : 'no');
    return cells;
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(head), ...lines.map(fmt), '', `* default model. Prices are list prices at the default size; \`--json\` has every size. Sources: src/models/registry.ts.`].join('\n');
}

async function servedIds(flags: ModelsFlags): Promise<Set<string> | undefined> {
  const hasKey = Boolean(process.env.GEMINI_API_KEY?.trim() || process.env.GOOGLE_API_KEY?.trim());
  if (flags.offline || (!hasKey && !flags.emulator)) return undefined;
  const emulator = flags.emulator ? await startEmulator({}) : undefined;
  try {
    const client = new GeminiClient(emulator ? { apiKey: 'emulator-key', baseUrl: emulator.url } : { baseUrl: flags.baseUrl });
    const ids = new Set<string>();
    for await (const m of listModels(client)) if (m.name) ids.add(m.name.replace(/^models\//, ''));
    return ids;
  } finally {
    await emulator?.close();
  }
}

export function addModelsCommand(program: Command): void {
  program
    .command('models')
    .description('list the Gemini image models: status, sizes, prices, replacements; with a key, which ones it can call')
    .option('--json', 'one JSON object per model', false)
    .option('--offline', 'only the built-in registry, even with a key set', false)
    .option('--base-url <url>', 'Gemini REST base URL (default: GEMINI_BASE_URL or Google)')
    .option('--emulator', 'ask the built-in emulator instead of Google', false)
    .action(async (flags: ModelsFlags) => {
      const rows = modelRows(await servedIds(flags));
      if (flags.json) for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(`${table(rows)}\n`);
    });
}
