// Resource names on the wire. Validated here so a hostile or mistyped name can never
// rewrite the request path (no '..', query or fragment smuggling).
import { OptionError } from '../errors.ts';
import { DEFAULT_MODEL } from '../models/index.ts';

const FORBIDDEN = /\.\.|[?&#%\s\\]/;

/**
 * 'some-model' or 'models/some-model' → 'models/some-model'.
 * 'tunedModels/x' is kept as is, like the SDK's tModel().
 */
export function modelPath(model: string): string {
  if (typeof model !== 'string' || model.trim() === '' || FORBIDDEN.test(model)) {
    throw new OptionError('model', model, 'a model name without "..", "?", "&", "#", "%" or spaces');
  }
  const path = model.startsWith('models/') || model.startsWith('tunedModels/') ? model : `models/${model}`;
  const id = path.slice(path.indexOf('/') + 1);
  if (id === '' || id.includes('/')) throw new OptionError('model', model, `a single model id such as ${DEFAULT_MODEL}`);
  return path;
}

/**
 * 'files/abc', 'abc' or 'https://…/v1beta/files/abc' → 'abc'.
 * Length is not checked: batch output files (files/batch-<42 chars>) exceed the 40-char rule.
 */
export function fileId(name: string): string {
  return resourceId('file', name, 'files/');
}

/** 'batches/abc' or 'abc' → 'abc'. */
export function batchId(name: string): string {
  return resourceId('batch', name, 'batches/');
}

function resourceId(option: string, name: string, prefix: string): string {
  let id = typeof name === 'string' ? name : '';
  if (/^https?:\/\//i.test(id)) {
    const m = new RegExp(`/${prefix}([^/?#]+)`).exec(id);
    id = m?.[1] ?? '';
  } else if (id.startsWith(prefix)) {
    id = id.slice(prefix.length);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(id)) {
    throw new OptionError(option, name, `a ${prefix}<id> name (letters, digits, '-', '_')`);
  }
  return id;
}
