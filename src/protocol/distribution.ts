import { z } from 'zod';

/** A load zone's name, e.g. `local` or `amazon:us:ashburn`. */
export const loadZoneNameSchema = z.string().regex(/^[a-z0-9][a-z0-9:._-]{0,63}$/, 'must be a load zone name like "local" or "amazon:us:ashburn"');

/**
 * k6's `options.cloud.distribution`: `{ label: { loadZone, percent } }`, integer percents that add
 * up to 100 (K6-CLOUD-API.md, cloud options).
 */
export const distributionSchema = z
  .record(
    z.string().min(1).max(64),
    z.strictObject({ loadZone: loadZoneNameSchema, percent: z.int().min(1).max(100) }),
  )
  .refine((d) => Object.keys(d).length > 0, 'must name at least one load zone')
  .refine((d) => Object.values(d).reduce((sum, z) => sum + z.percent, 0) === 100, 'percents must add up to 100');
/** k6's `options.cloud.distribution`. */
export type Distribution = z.infer<typeof distributionSchema>;
