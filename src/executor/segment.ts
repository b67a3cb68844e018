import { HerdError } from '../errors/index.js';
import type { ExecutionSegment, SegmentedIndex } from './types.js';

/**
 * Execution segments, as k6 defines them (lib/execution_segment.go), with exact arithmetic.
 *
 * A test split over N instances is a *sequence* of consecutive segments covering [0,1]
 * ("0,1/3,2/3,1"); each instance runs one segment of it. Integers (VUs, iterations) are split
 * by *striping*: take the least common denominator L of the segment lengths; every block of L
 * consecutive units 0..L-1 is dealt out so that a segment of length p/L owns exactly p of them,
 * spread as evenly as possible (biggest segments choose first; unit e goes to the first segment
 * whose count c satisfies e·p ≥ c·L, i.e. whose "next fair turn" has come). A segment's share of
 * a value v is then the number of units below v it owns, so shares of every v add up to v
 * exactly, never decrease as v grows, and iteration numbers interleave across instances.
 *
 * Bounds are BigInt fractions; the striping works on integers below L. Floats appear only in
 * the display fields `from`/`to` and in scaleRate().
 */

/** An exact non-negative fraction in lowest terms. */
interface Fraction {
  readonly n: bigint;
  readonly d: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a < 0n ? -a : a;
}

function frac(n: bigint, d: bigint): Fraction {
  const g = gcd(n, d) || 1n;
  return { n: n / g, d: d / g };
}

function sub(a: Fraction, b: Fraction): Fraction {
  return frac(a.n * b.d - b.n * a.d, a.d * b.d);
}

function cmp(a: Fraction, b: Fraction): number {
  const l = a.n * b.d;
  const r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
}

function fracString(f: Fraction): string {
  return f.d === 1n ? `${f.n}` : `${f.n}/${f.d}`;
}

const ZERO = frac(0n, 1n);
const ONE = frac(1n, 1n);

/** The largest least common denominator we stripe over: beyond it, dealing out units gets too slow. */
const MAX_LCD = 10_000_000;

/** Parses "1/3", "0.25", "50%" or "1" into an exact fraction; null when malformed. */
function parseFraction(text: string): Fraction | null {
  const s = text.trim();
  const pct = /^(\d+)(?:\.(\d+))?%$/.exec(s);
  if (pct) {
    const decimals = pct[2] ?? '';
    return frac(BigInt(`${pct[1]}${decimals}`), 100n * 10n ** BigInt(decimals.length));
  }
  const ratio = /^(\d+)\/(\d+)$/.exec(s);
  if (ratio) {
    const d = BigInt(ratio[2] as string);
    return d === 0n ? null : frac(BigInt(ratio[1] as string), d);
  }
  const dec = /^(\d+)(?:\.(\d+))?$/.exec(s);
  if (dec) {
    const decimals = dec[2] ?? '';
    return frac(BigInt(`${dec[1]}${decimals}`), 10n ** BigInt(decimals.length));
  }
  return null;
}

/** A full sequence of segments with each segment's striped units precomputed. */
class Sequence {
  readonly lcd: number;
  /** For each segment, the sorted units in [0, lcd) it owns. */
  readonly stripes: readonly (readonly number[])[];

  constructor(readonly bounds: readonly Fraction[]) {
    const lengths = bounds.slice(1).map((to, i) => sub(to, bounds[i] as Fraction));
    let lcd = 1n;
    for (const l of lengths) lcd = (lcd * l.d) / gcd(lcd, l.d);
    if (lcd > BigInt(MAX_LCD)) {
      throw new HerdError(
        'invalid_option',
        `executionSegmentSequence must have segment lengths with a common denominator of at most ${MAX_LCD}, got ${lcd} for "${this.text()}"`,
      );
    }
    this.lcd = Number(lcd);
    const owned = lengths.map((l) => Number((l.n * lcd) / l.d));
    // Biggest segments choose first (stable for equal sizes), so they are the ones that get
    // adjacent units only when they must.
    const order = owned.map((_, i) => i).sort((a, b) => (owned[b] as number) - (owned[a] as number));
    const chosen = owned.map(() => 0);
    const stripes: number[][] = owned.map(() => []);
    for (let unit = 0; unit < this.lcd; unit++) {
      for (const i of order) {
        if (unit * (owned[i] as number) >= (chosen[i] as number) * this.lcd) {
          chosen[i] = (chosen[i] as number) + 1;
          (stripes[i] as number[]).push(unit);
          break;
        }
      }
    }
    this.stripes = stripes;
  }

  /** How many of the units 0..value-1 segment `i` owns. */
  scale(i: number, value: number): number {
    const stripe = this.stripes[i] as readonly number[];
    const rest = value % this.lcd;
    let below = 0;
    while (below < stripe.length && (stripe[below] as number) < rest) below++;
    return Math.floor(value / this.lcd) * stripe.length + below;
  }

  /** k6's way of writing a sequence: "0,1/3,2/3,1". */
  text(): string {
    return this.bounds.map(fracString).join(',');
  }
}

/** k6's SegmentedIndex over one stripe. */
class StripedIndex implements SegmentedIndex {
  scaled = 0;
  unscaled = 0;

  constructor(
    private readonly stripe: readonly number[],
    private readonly lcd: number,
  ) {}

  next(): void {
    this.scaled++;
    this.unscaled = this.positionOf(this.scaled);
  }

  prev(): void {
    this.scaled--;
    this.unscaled = this.positionOf(this.scaled);
  }

  goTo(value: number): void {
    const rest = value % this.lcd;
    let below = 0;
    while (below < this.stripe.length && (this.stripe[below] as number) < rest) below++;
    this.scaled = Math.floor(value / this.lcd) * this.stripe.length + below;
    this.unscaled = this.positionOf(this.scaled);
  }

  /** Global 1-based position of the segment's `scaled`-th element. */
  private positionOf(scaled: number): number {
    if (scaled <= 0) return 0;
    const k = scaled - 1;
    const per = this.stripe.length;
    return Math.floor(k / per) * this.lcd + (this.stripe[k % per] as number) + 1;
  }
}

/** One segment of one sequence (k6's ExecutionTuple). */
class Segment implements ExecutionSegment {
  readonly from: number;
  readonly to: number;
  readonly sequence: string;
  private readonly length: Fraction;

  constructor(
    private readonly seq: Sequence,
    private readonly index: number,
  ) {
    const from = seq.bounds[index] as Fraction;
    const to = seq.bounds[index + 1] as Fraction;
    this.from = Number(from.n) / Number(from.d);
    this.to = Number(to.n) / Number(to.d);
    this.length = sub(to, from);
    this.sequence = seq.text();
  }

  scale(value: number): number {
    // A one-segment sequence is the whole test: nothing to split.
    return this.seq.stripes.length === 1 ? value : this.seq.scale(this.index, value);
  }

  scaleRate(value: number): number {
    return (value * Number(this.length.n)) / Number(this.length.d);
  }

  toString(): string {
    return `${fracString(this.seq.bounds[this.index] as Fraction)}:${fracString(this.seq.bounds[this.index + 1] as Fraction)}`;
  }

  newIndex(): SegmentedIndex {
    return new StripedIndex(this.seq.stripes[this.index] as readonly number[], this.seq.lcd);
  }

  forValue(value: number): ExecutionSegment | null {
    if (value < 1) return null;
    // Whole cycles only: every segment already gets exactly its proportion.
    if (value % this.seq.lcd === 0) return this;
    const bounds: Fraction[] = [ZERO];
    let sum = 0;
    let newIndex = -1;
    for (let i = 0; i < this.seq.stripes.length; i++) {
      const share = this.seq.stripes.length === 1 ? value : this.seq.scale(i, value);
      if (share === 0) continue;
      if (i === this.index) newIndex = bounds.length - 1;
      sum += share;
      bounds.push(frac(BigInt(sum), BigInt(value)));
    }
    return newIndex < 0 ? null : new Segment(new Sequence(bounds), newIndex);
  }
}

/** The whole test: segment [0,1] of the sequence [0,1]. */
export const fullSegment: ExecutionSegment = new Segment(new Sequence([ZERO, ONE]), 0);

const SEGMENT_FORMAT = 'a fraction, decimal or percentage like "1/3", "0.5" or "50%", or a range "from:to" of those';

/** Parses one k6 segment bound pair ("1/3:2/3", "50%", "") into exact fractions, pushing problems. */
function parseSegmentText(text: string, problems: string[]): [Fraction, Fraction] | null {
  if (text.trim() === '') return [ZERO, ONE];
  const parts = text.includes(':') ? text.split(':') : ['0', text];
  if (parts.length !== 2) {
    problems.push(`executionSegment must be ${SEGMENT_FORMAT}, got ${JSON.stringify(text)}`);
    return null;
  }
  const from = parseFraction(parts[0] as string);
  const to = parseFraction(parts[1] as string);
  if (from === null || to === null) {
    problems.push(`executionSegment must be ${SEGMENT_FORMAT}, got ${JSON.stringify(text)}`);
    return null;
  }
  if (cmp(from, to) >= 0 || cmp(to, ONE) > 0) {
    problems.push(`executionSegment must have 0 <= from < to <= 1, got ${JSON.stringify(text)}`);
    return null;
  }
  return [from, to];
}

/** Parses a sequence ("0,1/3,2/3,1") into its points, pushing problems; null when absent. */
function parseSequenceText(text: string, problems: string[]): Fraction[] | null {
  const points = text.split(',').map(parseFraction);
  if (points.length < 2 || points.some((p) => p === null)) {
    problems.push(
      `executionSegmentSequence must be at least 2 increasing points between 0 and 1 like "0,1/3,2/3,1", got ${JSON.stringify(text)}`,
    );
    return null;
  }
  const ok = (points as Fraction[]).every((p, i, all) => cmp(p, ONE) <= 0 && (i === 0 || cmp(all[i - 1] as Fraction, p) < 0));
  if (!ok) {
    problems.push(
      `executionSegmentSequence must be at least 2 increasing points between 0 and 1 like "0,1/3,2/3,1", got ${JSON.stringify(text)}`,
    );
    return null;
  }
  return points as Fraction[];
}

/**
 * Parses k6's `executionSegment` and `executionSegmentSequence` options into this instance's
 * segment; a missing sequence is filled around the segment, as k6 does. Throws
 * HerdError('invalid_option') naming every problem.
 */
export function parseExecutionSegment(segment = '', sequence = ''): ExecutionSegment {
  const problems: string[] = [];
  const range = parseSegmentText(segment, problems);
  const points = sequence.trim() === '' ? null : parseSequenceText(sequence, problems);
  if (range === null || problems.length > 0) throw new HerdError('invalid_option', problems.join('\n'));
  const [from, to] = range;
  const bounds = points ? [...points] : [from, to];
  // k6 fills the gaps before and after the sequence so that it covers [0,1].
  if (cmp(bounds[0] as Fraction, ZERO) !== 0) bounds.unshift(ZERO);
  if (cmp(bounds[bounds.length - 1] as Fraction, ONE) !== 0) bounds.push(ONE);
  const index = bounds.findIndex((b, i) => cmp(b, from) === 0 && i + 1 < bounds.length && cmp(bounds[i + 1] as Fraction, to) === 0);
  if (index < 0) {
    throw new HerdError(
      'invalid_option',
      `executionSegmentSequence must contain executionSegment ${fracString(from)}:${fracString(to)}, got ${JSON.stringify(sequence)}`,
    );
  }
  return new Segment(new Sequence(bounds), index);
}

/** Every segment of a sequence ("0,1/3,2/3,1"), filled to cover [0,1]: what N instances run together. */
export function segmentsOfSequence(sequence: string): ExecutionSegment[] {
  const problems: string[] = [];
  const points = parseSequenceText(sequence, problems);
  if (points === null) throw new HerdError('invalid_option', problems.join('\n'));
  if (cmp(points[0] as Fraction, ZERO) !== 0) points.unshift(ZERO);
  if (cmp(points[points.length - 1] as Fraction, ONE) !== 0) points.push(ONE);
  const seq = new Sequence(points);
  return points.slice(1).map((_, i) => new Segment(seq, i));
}

/**
 * A part of a part: `inner` (a segment of an evenly split sequence 0,1/N,…,1) applied to what
 * `outer` (this instance's segment) gets. Any value is first scaled by the outer segment, then
 * that share is split among the inner parts, so the N parts of one instance always add up to
 * exactly the instance's share — which re-cutting the sequence cannot promise, since striping
 * rounds each part on its own. Global positions (VU numbers, iteration numbers) are the outer
 * segment's positions picked by the inner index, so parts never share one.
 */
class NestedSegment implements ExecutionSegment {
  readonly from: number;
  readonly to: number;
  readonly sequence: string;

  constructor(
    private readonly outer: ExecutionSegment,
    private readonly inner: ExecutionSegment,
  ) {
    const width = outer.to - outer.from;
    this.from = outer.from + inner.from * width;
    this.to = outer.from + inner.to * width;
    this.sequence = outer.sequence;
  }

  scale(value: number): number {
    return this.inner.scale(this.outer.scale(value));
  }

  scaleRate(value: number): number {
    return this.inner.scaleRate(this.outer.scaleRate(value));
  }

  toString(): string {
    return `${this.inner.toString()} of ${this.outer.toString()}`;
  }

  newIndex(): SegmentedIndex {
    return new NestedIndex(this.outer, this.inner.newIndex());
  }

  forValue(value: number): ExecutionSegment | null {
    const outer = this.outer.forValue(value);
    if (outer === null) return null;
    const inner = this.inner.forValue(this.outer.scale(value));
    return inner === null ? null : new NestedSegment(outer, inner);
  }
}

/** Walks the outer segment's elements that the inner index picks. */
class NestedIndex implements SegmentedIndex {
  private readonly outerIndex: SegmentedIndex;

  constructor(
    private readonly outer: ExecutionSegment,
    private readonly innerIndex: SegmentedIndex,
  ) {
    this.outerIndex = outer.newIndex();
  }

  get scaled(): number {
    return this.innerIndex.scaled;
  }

  get unscaled(): number {
    return this.innerIndex.unscaled === 0 ? 0 : this.outerIndex.unscaled;
  }

  next(): void {
    this.innerIndex.next();
    this.sync();
  }

  prev(): void {
    this.innerIndex.prev();
    this.sync();
  }

  goTo(value: number): void {
    const probe = this.outer.newIndex();
    probe.goTo(value);
    this.innerIndex.goTo(probe.scaled);
    this.sync();
  }

  /** Moves the outer index to the element the inner index points at. */
  private sync(): void {
    const want = this.innerIndex.unscaled;
    while (this.outerIndex.scaled < want) this.outerIndex.next();
    while (this.outerIndex.scaled > want) this.outerIndex.prev();
  }
}

/**
 * Splits this instance's segment into `parts` parts for its worker threads: part k gets the
 * k-th share of whatever the instance gets, so the parts add up to the instance exactly.
 */
export function splitSegment(segment: ExecutionSegment, parts: number): ExecutionSegment[] {
  if (!Number.isInteger(parts) || parts < 1) throw new Error(`splitSegment needs a whole number of parts, got ${parts}`);
  if (parts === 1) return [segment];
  const evenly = segmentsOfSequence(Array.from({ length: parts + 1 }, (_, k) => (k === 0 ? '0' : k === parts ? '1' : `${k}/${parts}`)).join(','));
  return evenly.map((inner) => (segment.sequence === '0,1' ? inner : new NestedSegment(segment, inner)));
}

/** The segment a worker thread runs: part `part` of `parts` of this instance's segment. */
export function workerSegment(segment: ExecutionSegment, part: number, parts: number): ExecutionSegment {
  const all = splitSegment(segment, parts);
  const chosen = all[part];
  if (chosen === undefined) throw new Error(`worker part ${part} is not one of ${parts}`);
  return chosen;
}
