import { z } from 'zod';
import { isoTimeSchema } from './ids.js';

/** One threshold's outcome on a run, evaluated on the control plane on merged metrics. */
export const thresholdResultSchema = z.strictObject({
  /** Metric with optional sub-metric selector, as written: `http_req_duration{name:login}`. */
  metric: z.string().min(1).max(500),
  /** The expression as written: `p(95)<500`. */
  expression: z.string().min(1).max(500),
  passed: z.boolean(),
  abortOnFail: z.boolean(),
  evaluatedAt: isoTimeSchema,
});
/** One threshold's outcome on a run. */
export type ThresholdResult = z.infer<typeof thresholdResultSchema>;
