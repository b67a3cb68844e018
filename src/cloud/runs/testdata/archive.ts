import { packArchive } from '../../../script/index.js';

const EMPTY_MAP = { version: 3 as const, file: 'script.js', sourceRoot: '', sources: [], sourcesContent: [], names: [], mappings: '' };

/** A real archive (src/script's format) with these options and an empty script: the control plane reads only the options. */
export function archiveWith(options: Record<string, unknown>): Promise<Uint8Array> {
  return packArchive({
    entry: '/tests/script.js',
    artifact: {
      bundleCode: '', bundleMap: EMPTY_MAP, workDir: '/tests', code: '', map: EMPTY_MAP, freeGlobals: [], builtinModules: [],
    },
    options,
    env: {},
    files: new Map(),
    herdVersion: '0.1.0',
  });
}
