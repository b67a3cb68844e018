import type { z } from 'zod';
import { show } from '../../config/index.js';
import { ApiError, type FieldProblem } from './errors.js';

/** Which part of a request a value came from; it leads every field path in an error. */
export type RequestPart = 'params' | 'query' | 'body';

/**
 * Parses one part of a request with its protocol schema (parse, don't validate): the handler
 * gets the typed output or the request ends with a 400 naming every bad field at once.
 */
export function parseRequestPart<S extends z.ZodType>(schema: S, value: unknown, part: RequestPart): z.output<S> {
  const result = schema.safeParse(value ?? (part === 'body' ? undefined : {}), { reportInput: true });
  if (result.success) return result.data;
  const fields = describeIssues(result.error.issues, part, value);
  throw new ApiError('invalid_request', fields.map((f) => f.message).join('; '), {
    fields,
    hint: 'GET /openapi.json describes every request',
  });
}

/** Turns zod issues into one `<path> must be …, got …` problem per bad field (unknown keys: one per key). */
export function describeIssues(issues: readonly z.core.$ZodIssue[], part: RequestPart, input: unknown): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const issue of issues) {
    const base = [part, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: `${base}.${key}`, message: `${base}.${key} is not a known field` });
      }
      continue;
    }
    const got = valueAt(input, issue.path);
    const constraint = constraintOf(issue, got);
    // Some protocol messages already name the offending part ("…, got 77"); say it once.
    out.push({ path: base, message: constraint.includes(', got ') ? `${base} ${constraint}` : `${base} ${constraint}, got ${show(got)}` });
  }
  return out;
}

// zod's default messages ("Invalid input: expected string, received number") are written for
// developers; the API speaks in the house form "must be …". Messages the protocol schemas set
// themselves already start with "must", so they pass through.
function constraintOf(issue: z.core.$ZodIssue, got: unknown): string {
  if (issue.message.startsWith('must ')) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return got === undefined ? `is required and must be ${article(issue.expected)}` : `must be ${article(issue.expected)}`;
    case 'invalid_value':
      return `must be ${issue.values.length === 1 ? show(issue.values[0]) : `one of ${issue.values.map((v) => show(v)).join(', ')}`}`;
    case 'too_small':
      return issue.origin === 'string'
        ? `must be at least ${String(issue.minimum)} characters long`
        : issue.origin === 'array' ? `must have at least ${String(issue.minimum)} items` : `must be ${issue.inclusive === false ? 'more than' : 'at least'} ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'string'
        ? `must be at most ${String(issue.maximum)} characters long`
        : issue.origin === 'array' ? `must have at most ${String(issue.maximum)} items` : `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}`;
    case 'invalid_format':
      return issue.format === 'datetime' ? 'must be an ISO-8601 UTC time like "2026-01-31T12:00:00.000Z"' : `must be a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      return 'must match one of the allowed shapes';
    default:
      return `is invalid (${issue.message})`;
  }
}

function article(type: string): string {
  const t = type === 'record' ? 'object' : type === 'int' ? 'integer' : type;
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur = input;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}
