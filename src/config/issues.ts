import type { z } from 'zod';

/** Formats a zod failure as one line per problem: `<path> must be <constraint>, got <value>`. */
export function formatIssues(error: z.ZodError, prefix: string, input: unknown): string[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    const got = valueAt(input, issue.path as ReadonlyArray<PropertyKey>);
    const what = issue.code === 'unrecognized_keys'
      ? `has unknown keys ${(issue as { keys?: string[] }).keys?.map((k) => JSON.stringify(k)).join(', ') ?? ''}`
      : describe(issue.message);
    const shown = issue.code === 'unrecognized_keys' ? '' : `, got ${show(got)}`;
    return `${path === '' ? 'options' : path} ${what}${shown}`;
  });
}

function describe(message: string): string {
  // zod's default messages start with "Invalid input: expected number"; turn them into "must be a number".
  const m = /^Invalid input: expected (\w+)/.exec(message);
  if (m) return `must be ${article(m[1] as string)}`;
  if (message.startsWith('must ')) return message;
  const small = /^Too small: expected number to be >=?(-?\d+(?:\.\d+)?)/.exec(message);
  if (small) return `must be at least ${small[1]}`;
  return `is invalid (${message})`;
}

function article(type: string): string {
  const t = type === 'record' ? 'object' : type;
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur = input;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** Shows a value in an error message, short. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    const s = JSON.stringify(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}
