import type { LoadTest, Project } from '../../src/protocol/index.js';
import { api } from './api.js';

// Names of tests and projects, for showing runs (which carry only ids). Fetched once and
// again when an unknown id shows up (a run of a new test).

let tests: Map<string, LoadTest> | undefined;
let projects: Map<string, Project> | undefined;

/** Tests by id; `refresh` fetches again. */
export async function testsById(refresh = false): Promise<Map<string, LoadTest>> {
  if (tests === undefined || refresh) {
    const answer = await api.get<{ tests: LoadTest[] }>('/tests');
    tests = new Map(answer.tests.map((t) => [t.id, t]));
  }
  return tests;
}

/** Projects by id; `refresh` fetches again. */
export async function projectsById(refresh = false): Promise<Map<string, Project>> {
  if (projects === undefined || refresh) {
    const answer = await api.get<{ projects: Project[] }>('/projects');
    projects = new Map(answer.projects.map((p) => [p.id, p]));
  }
  return projects;
}

/** Forgets everything (on sign-out). */
export function forgetCatalog(): void {
  tests = undefined;
  projects = undefined;
}
