import type { z } from 'zod';

/**
 * Turns zod issues about one scenario into plain sentences,
 * "scenarios.<name>.<key> must be <constraint>, got <value>", so that every problem of every
 * scenario can be reported at once.
 */

/** Renders a user's value for an error message: strings quoted, absent values as "nothing". */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Joins a scenario prefix and a zod path: scenarios.x.stages[1].target. */
export function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`), prefix);
}

/** What an object at some depth of a scenario accepts: its name for messages and its keys. */
export interface KnownKeys {
  /** E.g. "shared-iterations options" or "stage options". */
  readonly what: string;
  readonly keys: readonly string[];
}

/**
 * One sentence per problem. `knownKeysAt` names the keys an object at `path` accepts, for
 * unknown-key messages.
 */
export function describeIssues(
  prefix: string,
  issues: readonly z.core.$ZodIssue[],
  knownKeysAt: (path: readonly PropertyKey[]) => KnownKeys,
): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(issue.path);
      for (const key of issue.keys) {
        lines.push(`${joinPath(prefix, [...issue.path, key])} must be one of the ${known.what} (${known.keys.join(', ')}), got an unknown key`);
      }
      continue;
    }
    lines.push(`${joinPath(prefix, issue.path)} must be ${issue.message}, got ${showValue(issue.input)}`);
  }
  return lines;
}
