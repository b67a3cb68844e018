import { z } from 'zod';
import { archiveIdSchema, isoTimeSchema, projectIdSchema, testIdSchema } from './ids.js';

/** A stored archive as listed: size and digest, never the bytes. */
export const archiveInfoSchema = z.strictObject({
  id: archiveIdSchema,
  sizeBytes: z.int().nonnegative(),
  /** Hex SHA-256 of the archive bytes. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: isoTimeSchema,
});
/** A stored archive as listed. */
export type ArchiveInfo = z.infer<typeof archiveInfoSchema>;

/** A test (k6's "load test"): a named script in a project, with its latest archive. */
export const loadTestSchema = z.strictObject({
  id: testIdSchema,
  projectId: projectIdSchema,
  name: z.string().min(1).max(200),
  createdAt: isoTimeSchema,
  updatedAt: isoTimeSchema,
  latestArchive: archiveInfoSchema.nullable(),
});
/** A test. */
export type LoadTest = z.infer<typeof loadTestSchema>;

/** Body of a request creating a test; names are unique within a project, as in k6 Cloud. */
export const createLoadTestBodySchema = z.strictObject({
  projectId: projectIdSchema,
  name: z.string().min(1).max(200),
});
/** Body of a request creating a test. */
export type CreateLoadTestBody = z.infer<typeof createLoadTestBodySchema>;

/** Query of a request listing tests. */
export const loadTestListQuerySchema = z.strictObject({ projectId: projectIdSchema.optional() });
/** Query of a request listing tests. */
export type LoadTestListQuery = z.infer<typeof loadTestListQuerySchema>;
