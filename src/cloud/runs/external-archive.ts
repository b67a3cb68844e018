import { HERD_VERSION } from '../../config/index.js';
import { packArchive } from '../../script/index.js';

/**
 * The archive stored for a run that k6 executes itself (`k6 run --out cloud`), when its test has
 * no archive yet: every run row needs one, and k6 never sends its script in this mode. It is a
 * real herd archive holding the options k6 reported (VUs, duration, thresholds) and a script
 * whose init code stops with an explanation, so re-running the test in herd ends at once
 * "Aborted by script error" saying what to do, instead of running something the user never wrote.
 * Its options never carry the external marker (external-marker.ts): a re-run is an ordinary run.
 */
export async function externalRunArchive(input: {
  testName: string; vus: number; durationSeconds: number; thresholds: Readonly<Record<string, readonly string[]>>; via: string; now: Date;
}): Promise<Uint8Array> {
  const explanation = `test ${JSON.stringify(input.testName)} ran outside herd (${input.via}), so herd has no copy of its script; `
    + 'to run it here, upload it with "herd cloud run <script>" or "k6 cloud <script>"';
  const code = `throw new Error(${JSON.stringify(explanation)});\n`;
  const map = { version: 3 as const, file: 'external-run.js', sourceRoot: '', sources: ['external-run.js'], sourcesContent: [code], names: [], mappings: 'AAAA' };
  return packArchive({
    entry: '/external-run.js',
    artifact: { bundleCode: code, bundleMap: map, workDir: '/', code, map, freeGlobals: [], builtinModules: [] },
    options: {
      vus: Math.max(1, input.vus),
      duration: `${Math.max(1, input.durationSeconds)}s`,
      ...(Object.keys(input.thresholds).length === 0 ? {} : { thresholds: input.thresholds }),
    },
    env: {},
    files: new Map(),
    herdVersion: HERD_VERSION,
    createdAt: input.now,
  });
}
