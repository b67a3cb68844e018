import { HerdError } from '../errors/index.js';

/** Where `handleSummary` results go; `writeFile` creates or truncates the file. */
export interface SummaryIO {
  stdout(text: string): void;
  stderr(text: string): void;
  writeFile(path: string, content: string | Uint8Array): Promise<void>;
}

/** True when `handleSummary` returned nothing, in which case k6 prints its default text summary. */
export function isEmptySummaryResult(result: unknown): boolean {
  return result === null || result === undefined;
}

/**
 * Routes what a script's `handleSummary(data)` returned, with k6's semantics: each key is
 * `stdout`, `stderr` or a file path (relative paths are relative to the process's working
 * directory, as `writeFile` resolves them), each value a string or binary data (ArrayBuffer
 * or a typed array). `null`/`undefined` writes nothing. The whole result is checked before
 * anything is written, so an invalid result writes nothing (HerdError `script_exception`).
 * Files that cannot be written do not stop the others; the failures are reported together
 * afterwards (HerdError `internal`).
 */
export async function resolveHandleSummaryResult(result: unknown, io: SummaryIO): Promise<void> {
  if (isEmptySummaryResult(result)) return;
  const entries = validate(result);
  const failures: string[] = [];
  for (const [key, content] of entries) {
    if (key === 'stdout' || key === 'stderr') {
      const text = typeof content === 'string' ? content : new TextDecoder().decode(content);
      if (key === 'stdout') io.stdout(text);
      else io.stderr(text);
      continue;
    }
    try {
      await io.writeFile(key, content);
    } catch (e) {
      failures.push(`could not write '${key}': ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (failures.length > 0) {
    throw new HerdError('internal', `could not save some summary information: ${failures.join('; ')}`, {
      hint: 'check that the directories of the files handleSummary returns exist and are writable',
    });
  }
}

function validate(result: unknown): Array<[string, string | Uint8Array]> {
  if (typeof result !== 'object' || Array.isArray(result) || ArrayBuffer.isView(result) || result instanceof ArrayBuffer) {
    throw new HerdError(
      'script_exception',
      `handleSummary() should return a map with string keys, got ${describe(result)}`,
      { hint: "return an object such as { stdout: textSummary(data), 'summary.json': JSON.stringify(data) }" },
    );
  }
  const out: Array<[string, string | Uint8Array]> = [];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(result as Record<string, unknown>)) {
    if (key === '') {
      problems.push('an empty key is not a file path');
      continue;
    }
    if (typeof value === 'string') out.push([key, value]);
    else if (value instanceof ArrayBuffer) out.push([key, new Uint8Array(value)]);
    else if (ArrayBuffer.isView(value)) out.push([key, new Uint8Array(value.buffer, value.byteOffset, value.byteLength)]);
    else problems.push(`the value of '${key}' must be a string or an ArrayBuffer, got ${describe(value)}`);
  }
  if (problems.length > 0) {
    throw new HerdError('script_exception', `invalid handleSummary() result: ${problems.join('; ')}`, {
      hint: 'convert values with JSON.stringify() or return an ArrayBuffer for binary content',
    });
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return 'binary data';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return `a ${typeof value} (${String(value)})`;
}
