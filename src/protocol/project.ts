import { z } from 'zod';
import { isoTimeSchema, orgIdSchema, projectIdSchema } from './ids.js';

/** A project: a folder of tests inside an organization (k6's `project_id`). */
export const projectSchema = z.strictObject({
  id: projectIdSchema,
  orgId: orgIdSchema,
  name: z.string().min(1).max(200),
  createdAt: isoTimeSchema,
});
/** A project. */
export type Project = z.infer<typeof projectSchema>;

/** Body of a request creating a project. */
export const createProjectBodySchema = z.strictObject({ name: z.string().min(1).max(200) });
/** Body of a request creating a project. */
export type CreateProjectBody = z.infer<typeof createProjectBodySchema>;
