// Prompt templates: "a {animal} in {watercolor|ink} style". `{name}` is filled from the row, `{a|b|c}` expands to
// one prompt per alternative (cross product over groups, first group slowest). `{{` and `}}` are literal braces.
import { OptionError } from '../errors.ts';
import type { FieldIssue } from './schema.ts';

/** More expansions than this per row is almost certainly a mistake (and would flood the quota). */
export const MAX_TEMPLATE_EXPANSIONS = 10_000;

type Piece = { kind: 'text'; text: string } | { kind: 'column'; name: string } | { kind: 'choice'; options: string[] };

export interface CompiledTemplate {
  readonly source: string;
  /** Column names the template reads, in order of first use. */
  readonly columns: string[];
  /** Prompts per row (product of the alternative group sizes). */
  readonly expansions: number;
  /** All prompts for one row, or one issue per missing / non-text column. */
  expand(row: Record<string, unknown>): { prompts?: string[]; issues: FieldIssue[] };
}

/** Throws OptionError('template') for unbalanced braces, an empty `{}` or too many expansions. */
export function compileTemplate(source: string): CompiledTemplate {
  const pieces = parsePieces(source);
  const columns = [...new Set(pieces.flatMap((p) => (p.kind === 'column' ? [p.name] : [])))];
  let expansions = 1;
  for (const p of pieces) if (p.kind === 'choice') expansions *= p.options.length;
  if (expansions > MAX_TEMPLATE_EXPANSIONS) {
    throw new OptionError('template', source, `at most ${MAX_TEMPLATE_EXPANSIONS} prompts per row (this one makes ${expansions})`);
  }
  return {
    source,
    columns,
    expansions,
    expand(row) {
      const values = new Map<string, string>();
      const issues: FieldIssue[] = [];
      for (const name of columns) {
        const v = Object.hasOwn(row, name) ? row[name] : undefined;
        if (v === undefined || v === null) issues.push({ field: name, message: `missing value for {${name}} in the template` });
        else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') values.set(name, String(v));
        else issues.push({ field: name, message: `{${name}} must be text, a number or a boolean` });
      }
      if (issues.length) return { issues };
      let out = [''];
      for (const p of pieces) {
        if (p.kind === 'text') out = out.map((s) => s + p.text);
        else if (p.kind === 'column') out = out.map((s) => s + (values.get(p.name) ?? ''));
        else out = out.flatMap((s) => p.options.map((o) => s + o));
      }
      return { prompts: out, issues };
    },
  };
}

function parsePieces(source: string): Piece[] {
  const pieces: Piece[] = [];
  let text = '';
  let i = 0;
  const bad = (why: string): never => {
    throw new OptionError('template', source, `a valid template (${why} at character ${i + 1})`);
  };
  while (i < source.length) {
    const c = source[i];
    if (c === '{' && source[i + 1] === '{') {
      text += '{';
      i += 2;
    } else if (c === '}' && source[i + 1] === '}') {
      text += '}';
      i += 2;
    } else if (c === '}') {
      bad('unmatched "}"');
    } else if (c === '{') {
      const close = source.indexOf('}', i + 1);
      const open = source.indexOf('{', i + 1);
      if (close === -1 || (open !== -1 && open < close)) bad('unclosed "{"');
      const body = source.slice(i + 1, close);
      if (text) pieces.push({ kind: 'text', text });
      text = '';
      if (body.includes('|')) pieces.push({ kind: 'choice', options: body.split('|') });
      else if (body.trim() === '') bad('empty "{}"');
      else pieces.push({ kind: 'column', name: body.trim() });
      i = close + 1;
    } else {
      text += c;
      i++;
    }
  }
  if (text) pieces.push({ kind: 'text', text });
  return pieces;
}
