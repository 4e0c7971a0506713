// Per-model checks of a job before anything is sent: a size, aspect ratio or thinking level the model registry
// says the model does not take is an input error. A model the registry does not know passes unchanged (it may be
// newer than this release; the server is the judge).
import { findModel } from '../models/index.ts';
import type { FieldIssue } from './schema.ts';

export interface JobSettings {
  model: string;
  aspectRatio?: string;
  imageSize?: string;
  thinking?: string;
}

/** Where each setting came from, for the message: a line's own field or the run-wide option (flag). */
export interface SettingOrigins {
  aspectRatio: 'line' | 'run';
  imageSize: 'line' | 'run';
  thinking: 'line' | 'run';
}

const FLAGS = { aspectRatio: '--aspect-ratio', imageSize: '--image-size', thinking: '--thinking' } as const;

/** A rule broken, with what the model would take (for an OptionError when the value came from a run option). */
export interface RuleIssue extends FieldIssue {
  field: 'aspectRatio' | 'imageSize' | 'thinking';
  expected: string;
}

export function modelIssues(s: JobSettings, origin: SettingOrigins): RuleIssue[] {
  const info = findModel(s.model);
  if (!info || info.status === 'shut_down') return [];
  const issues: RuleIssue[] = [];
  const from = (k: keyof SettingOrigins) => (origin[k] === 'run' ? ` (set by ${FLAGS[k]})` : '');
  if (s.aspectRatio !== undefined && !info.aspectRatios.includes(s.aspectRatio)) {
    issues.push({ field: 'aspectRatio', message: `${info.id} does not take ${s.aspectRatio}${from('aspectRatio')}; it takes ${info.aspectRatios.join(', ')}`, expected: `a ratio ${info.id} takes (${info.aspectRatios.join(', ')})` });
  }
  if (s.imageSize !== undefined) {
    if (info.defaultSize === undefined) {
      issues.push({ field: 'imageSize', message: `${info.id} takes no image size (it always makes ${info.sizes.join('/')})${from('imageSize')}; leave imageSize out`, expected: `no image size (${info.id} takes none)` });
    } else if (!(info.sizes as readonly string[]).includes(s.imageSize)) {
      issues.push({ field: 'imageSize', message: `${info.id} does not take ${s.imageSize}${from('imageSize')}; it takes ${info.sizes.join(', ')}`, expected: `a size ${info.id} takes (${info.sizes.join(', ')})` });
    }
  }
  if (s.thinking !== undefined) {
    const t = info.thinking;
    if (t.kind !== 'levels') {
      const why = t.kind === 'always' ? 'always thinks and takes no thinking level' : 'does not think';
      issues.push({ field: 'thinking', message: `${info.id} ${why}${from('thinking')}`, expected: `no thinking level (${info.id} ${why})` });
    } else if (!(t.levels as readonly string[]).includes(s.thinking)) {
      issues.push({ field: 'thinking', message: `${info.id} does not take ${s.thinking}${from('thinking')}; it takes ${t.levels.join(', ')}`, expected: `a level ${info.id} takes (${t.levels.join(', ')})` });
    }
  }
  return issues;
}
