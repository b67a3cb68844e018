import { TagSet } from './tags.js';

/** A parsed `metric{key:value,...}` name, as written in threshold definitions. */
export interface SubmetricKey {
  /** The key as written, trimmed (the name the summary shows). */
  readonly key: string;
  /** The parent metric's name. */
  readonly metricName: string;
  /** The tag selector, or null for a plain metric name. */
  readonly selector: TagSet | null;
}

/**
 * Parses a threshold key: a plain metric name, or `name{k:v,...}`, k6's sub-metric syntax.
 *
 * As in k6, the selector runs from the first '{' to the last '}' (so values may hold
 * braces, like `name:${}/item/${}`), pairs are split at ',', and each pair at its first ':'
 * only (so `group:::catalog::item` is key `group`, value `::catalog::item`). Keys and
 * values are trimmed of spaces and quotes. Returns the reason as a string when malformed.
 */
export function parseSubmetricKey(written: string): SubmetricKey | string {
  const key = written.trim();
  const open = key.indexOf('{');
  const close = key.lastIndexOf('}');
  if (open === -1 && close === -1) return { key, metricName: key, selector: null };
  if (open === -1 || close === -1) return `metric "${key}" has unmatched opening/close curly brace`;
  if (close < open) return `metric "${key}" closing curly brace appears before opening one`;
  if (close !== key.length - 1) return `metric "${key}" lacks a closing curly brace in its last position`;
  const metricName = key.slice(0, open).trim();
  const body = key.slice(open + 1, close).trim();
  if (body === '') return `sub-metric criteria for metric "${metricName}" cannot be empty`;
  let selector = TagSet.EMPTY;
  for (const pair of body.split(',')) {
    const cut = pair.indexOf(':');
    if (cut === -1 || pair.slice(cut + 1).trim() === '') {
      return `metric "${key}" tag expression "${pair.trim()}" is malformed, it must be key:value`;
    }
    const k = unquote(pair.slice(0, cut));
    const v = unquote(pair.slice(cut + 1));
    selector = selector.with(k, v);
  }
  return { key, metricName, selector };
}

function unquote(s: string): string {
  return s.trim().replace(/^["']+|["']+$/g, '');
}
