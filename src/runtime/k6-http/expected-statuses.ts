import { HerdError } from '../../errors/index.js';

/**
 * A response callback made by `http.expectedStatuses`: a response is expected when its
 * status is one of the listed codes or inside one of the ranges. k6 accepts no other kind of
 * callback, and neither does herd.
 */
export class ExpectedStatuses {
  constructor(
    private readonly codes: ReadonlySet<number>,
    private readonly ranges: ReadonlyArray<readonly [number, number]>,
  ) {}

  /** Whether `status` counts as an expected response. */
  matches(status: number): boolean {
    if (this.codes.has(status)) return true;
    for (const [min, max] of this.ranges) if (status >= min && status <= max) return true;
    return false;
  }
}

/** k6's default: every 2xx and 3xx status is expected. */
export const DEFAULT_EXPECTED = new ExpectedStatuses(new Set(), [[200, 399]]);

/** `http.expectedStatuses(200, {min, max}, …)`. */
export function expectedStatuses(...args: unknown[]): ExpectedStatuses {
  const codes = new Set<number>();
  const ranges: Array<readonly [number, number]> = [];
  args.forEach((a, i) => {
    if (typeof a === 'number' && Number.isInteger(a)) {
      codes.add(a);
      return;
    }
    if (typeof a === 'object' && a !== null) {
      const { min, max } = a as { min?: unknown; max?: unknown };
      if (typeof min === 'number' && typeof max === 'number' && Number.isInteger(min) && Number.isInteger(max)) {
        ranges.push([min, max]);
        return;
      }
    }
    throw new HerdError(
      'script_exception',
      `argument number ${i + 1} to expectedStatuses was neither an integer nor an object like {min:100, max:200}, got ${JSON.stringify(a)}`,
    );
  });
  return new ExpectedStatuses(codes, ranges);
}

/** Checks a value given to setResponseCallback or params.responseCallback. */
export function toResponseCallback(value: unknown, where: string): ExpectedStatuses | null {
  if (value === null) return null;
  if (value instanceof ExpectedStatuses) return value;
  throw new HerdError('script_exception', `${where} must be the result of http.expectedStatuses() or null`, {
    hint: 'k6 only supports response callbacks made with http.expectedStatuses()',
  });
}
