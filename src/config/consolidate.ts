import { HerdError } from '../errors/index.js';
import { formatIssues } from './issues.js';
import { optionsSchema, type Options } from './options.js';

/** One layer of options, with where it came from (for error messages). */
export interface OptionsLayer {
  /** "script options", "config file x.json", "environment", "flags". */
  readonly source: string;
  readonly values: Record<string, unknown>;
}

const SHORTCUTS = ['vus', 'duration', 'iterations', 'stages'] as const;

/** Parses one layer, reporting every problem at once. */
export function parseLayer(layer: OptionsLayer): Options {
  const r = optionsSchema.safeParse(layer.values);
  if (!r.success) {
    const lines = formatIssues(r.error, '', layer.values);
    throw new HerdError('invalid_option', `invalid ${layer.source}:\n  ${lines.join('\n  ')}`, {
      hint: 'fix the options named above; see https://grafana.com/docs/k6/latest/using-k6/k6-options/reference/',
    });
  }
  return r.data;
}

/**
 * Merges layers with k6's precedence: later layers win key by key. As in k6, when a
 * higher layer sets any execution shortcut (vus, duration, iterations, stages), the
 * scenarios (and shortcuts) of lower layers no longer apply: `--vus 3 --duration 5s`
 * replaces the script's scenarios.
 */
export function consolidate(layers: readonly OptionsLayer[]): Options {
  let merged: Options = {};
  for (const layer of layers) {
    const parsed = parseLayer(layer);
    const setsShortcut = SHORTCUTS.some((k) => parsed[k] !== undefined);
    if (setsShortcut && parsed.scenarios === undefined) {
      const rest: Options = { ...merged };
      delete rest.scenarios;
      merged = rest;
      // A higher layer's shortcut replaces a lower layer's shortcut config only where it
      // conflicts: duration and iterations are kept unless stages replace them.
      if (parsed.stages !== undefined) {
        delete merged.duration;
        delete merged.iterations;
      }
    }
    if (parsed.scenarios !== undefined) {
      for (const k of SHORTCUTS) delete merged[k];
    }
    merged = { ...merged, ...stripUndefined(parsed) };
  }
  return merged;
}

function stripUndefined<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** Option keys k6 knows that herd parses; others are reported as warnings. */
export function unknownOptionKeys(values: Record<string, unknown>): string[] {
  const known = new Set(Object.keys(optionsSchema.shape));
  return Object.keys(values).filter((k) => !known.has(k));
}
