// The input flags shared by `generate` and `batch submit`, mapped once onto the library's InputOptions.
import type { InputOptions } from '../index.ts';

export interface InputFlags {
  model?: string;
  aspectRatio?: string;
  imageSize?: string;
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
