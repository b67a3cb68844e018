import { segmentsOfSequence, type ExecutionSegment } from '../../executor/index.js';
import type { Distribution } from '../../protocol/distribution.js';
import type { AgentId } from '../../protocol/ids.js';

/** A generator that could take a share of a run. */
export interface PlacementCandidate {
  readonly id: AgentId;
  readonly zone: string;
  /** VUs it can still take: capacity minus what its current runs use. */
  readonly freeVUs: number;
}

/** One generator's share of a run. */
export interface PlacementShare {
  readonly agentId: AgentId;
  readonly zone: string;
  /** k6's segment, e.g. `1/3:2/3`. */
  readonly segment: string;
  /** VUs this share needs at most. */
  readonly vus: number;
  /** Runs setup() and teardown() for the whole run (exactly one share does). */
  readonly lifecycle: boolean;
}

/** Where a run goes, or why it cannot go anywhere yet. */
export type Placement =
  | { readonly ok: true; /** k6's sequence over every share, e.g. `0,1/3,2/3,1`. */ readonly sequence: string; readonly shares: readonly PlacementShare[] }
  | { readonly ok: false; readonly why: 'no_agents'; /** Zones with no healthy generator with room. */ readonly zones: readonly string[] }
  | { readonly ok: false; readonly why: 'capacity'; readonly zone: string; readonly neededVUs: number; readonly freeVUs: number };

// Each percent is cut into this many units, so a zone's share splits over up to 60 agents in
// proportions like 1/2, 1/3, 1/4, 1/5 and 1/6 exactly; the sequence's common denominator stays ≤ 6000,
// far below what execution segments can stripe.
const UNITS_PER_PERCENT = 60;
const TOTAL_UNITS = 100 * UNITS_PER_PERCENT;

/**
 * Places a run on generators: each zone of the distribution gets its percent of the run, split
 * over the zone's generators in proportion to their free VUs (largest remainder, in whole units),
 * and the whole placement becomes ONE execution-segment sequence over all chosen generators.
 * Because every share is a segment of the same sequence, k6's striping makes the shares' VUs,
 * iterations and rates add up to exactly the whole run, whatever the rounding of each share.
 *
 * A zone uses at most as many generators as its share has VUs, so no generator is started for
 * nothing. `vusFor` gives the VUs a segment needs (the executors' plans).
 */
export function placeRun(
  distribution: Distribution,
  candidates: readonly PlacementCandidate[],
  vusFor: (segment: ExecutionSegment) => number,
  totalVUs: number,
): Placement {
  // Two labels may name the same zone: one share of the zone, with both percents.
  const percentByZone = new Map<string, number>();
  for (const { loadZone, percent } of Object.values(distribution)) percentByZone.set(loadZone, (percentByZone.get(loadZone) ?? 0) + percent);

  const missing: string[] = [];
  const cuts: Array<{ zone: string; agentId: AgentId; units: number }> = [];
  for (const [zone, percent] of percentByZone) {
    const zoneVUs = Math.max(1, Math.ceil((totalVUs * percent) / 100));
    const agents = candidates
      .filter((c) => c.zone === zone && c.freeVUs > 0)
      .sort((a, b) => b.freeVUs - a.freeVUs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, Math.min(zoneVUs, percent * UNITS_PER_PERCENT));
    if (agents.length === 0) {
      missing.push(zone);
      continue;
    }
    const units = percent * UNITS_PER_PERCENT;
    const free = agents.reduce((s, a) => s + a.freeVUs, 0);
    const exact = agents.map((a) => (units * a.freeVUs) / free);
    const given = exact.map((x) => Math.floor(x));
    let left = units - given.reduce((s, x) => s + x, 0);
    // Largest remainder: the leftover units go to the biggest fractional parts.
    const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
    for (const { i } of order) {
      if (left === 0) break;
      given[i] = (given[i] as number) + 1;
      left--;
    }
    agents.forEach((a, i) => {
      const u = given[i] as number;
      if (u > 0) cuts.push({ zone, agentId: a.id, units: u });
    });
  }
  if (missing.length > 0) return { ok: false, why: 'no_agents', zones: missing };

  const bounds = ['0'];
  let at = 0;
  for (const c of cuts) {
    at += c.units;
    bounds.push(at === TOTAL_UNITS ? '1' : `${at}/${TOTAL_UNITS}`);
  }
  const segments = segmentsOfSequence(bounds.join(','));
  const shares: PlacementShare[] = cuts.map((c, i) => {
    const segment = segments[i] as ExecutionSegment;
    return { agentId: c.agentId, zone: c.zone, segment: segment.toString(), vus: vusFor(segment), lifecycle: i === 0 };
  });
  for (const s of shares) {
    const free = candidates.find((c) => c.id === s.agentId)?.freeVUs ?? 0;
    if (s.vus > free) return { ok: false, why: 'capacity', zone: s.zone, neededVUs: s.vus, freeVUs: free };
  }
  return { ok: true, sequence: segments[0]?.sequence ?? '0,1', shares };
}
