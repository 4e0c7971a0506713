// The input flags shared by `generate` and `batch submit`, mapped once onto the library's InputOptions.
import { DEFAULT_MODEL, findModel } from '../index.ts';
import { capNeedsPrice } from '../options.ts';
import type { InputOptions, ThinkingLevel } from '../index.ts';

// Help texts from the model registry, so they follow the line-up without edits here.
const defaultModel = findModel(DEFAULT_MODEL);
export const MODEL_HELP = `model for prompts that name none (${defaultModel?.name ?? DEFAULT_MODEL}; \`imagebatch models\` lists the others)`;
export const IMAGE_SIZE_HELP = `${defaultModel?.sizes.join(', ') ?? '1K'} on ${DEFAULT_MODEL}; other models take other sizes (\`imagebatch models\`)`;
const levels = defaultModel?.thinking.kind === 'levels' ? defaultModel.thinking : undefined;
export const THINKING_HELP = levels
  ? `thinking level for models that take one: ${levels.levels.join(', ')} on ${DEFAULT_MODEL} (default ${levels.default})`
  : 'thinking level for models that take one (minimal, medium, high)';

export interface InputFlags {
  model?: string;
  aspectRatio?: string;
  imageSize?: string;
  thinking?: ThinkingLevel;
  template?: string;
  variants?: number;
  format?: 'txt' | 'jsonl' | 'csv';
  allowOutsideRefs: boolean;
}

export function inputOptions(f: InputFlags): InputOptions {
  return {
    model: f.model,
    aspectRatio: f.aspectRatio,
    imageSize: f.imageSize,
    thinking: f.thinking,
    template: f.template,
    variants: f.variants,
    format: f.format,
    allowOutsideRefs: f.allowOutsideRefs,
  };
}

/** `generate -` typed at a terminal waits for prompts: say so, and how to end them. */
export function ttyHint(write: (line: string) => void, stdin: { isTTY?: boolean } = process.stdin): void {
  if (stdin.isTTY) write('imagebatch: reading prompts from the terminal, one per line; end with Ctrl-D (Ctrl-Z then Enter on Windows), Ctrl-C to cancel.');
}

export const PRICE_PER_IMAGE_HELP = 'USD per image for a model newer than the model registry (required with --max-cost for such a model)';

/**
 * A budget over a price nobody knows would count every image as $0 and never stop (a model newer than the
 * registry): the lines that refuse it, naming the models and the flag that fixes it; none when the cap can count.
 */
export function unpricedCapLines(models: Iterable<string>, maxCost: number | undefined, pricePerImage: number | undefined): string[] {
  const unpriced = [...models].filter((m) => capNeedsPrice(m, maxCost, pricePerImage));
  if (unpriced.length === 0) return [];
  return [
    `imagebatch: --max-cost needs a price, and the model registry has none for ${unpriced.join(', ')} (newer than this version?).`,
    'Give --price-per-image <usd>, or pick a model from `imagebatch models`. Nothing was sent.',
  ];
}
