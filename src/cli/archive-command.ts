import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packK6Archive } from '../cloud/k6compat/k6-pack.js';
import { ExitCode, HerdError, type ExitCodeValue } from '../errors/index.js';
import type { CliIO } from './io.js';
import { createLogger } from './logger.js';
import { optionLayers, scriptEnv, type RunFlags } from './run-command.js';

/** Flags of `herd archive`. */
export interface ArchiveFlags extends RunFlags {
  archiveOut: string;
}

/**
 * `herd archive script.js -O archive.tar`: writes a k6-format archive (what `k6 archive` writes),
 * which `k6 run`, `k6 cloud` and herd's `/v1/archive-upload` accept. Options and -e values are
 * consolidated as for `herd run`; cloud tokens are left out.
 */
export async function archiveCommand(script: string, flags: ArchiveFlags, io: CliIO): Promise<ExitCodeValue> {
  const color = flags.color !== false && io.stderrIsTTY && io.env['NO_COLOR'] === undefined;
  const logger = createLogger({ write: (t) => io.stderr(t), color });
  const entry = path.resolve(io.cwd, script);
  if (!existsSync(entry)) throw new HerdError('script_not_found', `the script ${script} does not exist (looked at ${entry})`);
  const { env, userEnv } = scriptEnv({ env: flags.env }, io);
  const packed = await packK6Archive({
    entry,
    env,
    userEnv,
    layers: optionLayers(flags, io),
    cacheDir: path.join(io.env['HERD_CACHE_DIR'] ?? path.join(os.homedir(), '.cache', 'herd'), 'modules'),
    logger,
    allowInsecureRemote: io.env['HERD_ALLOW_INSECURE_IMPORTS'] === 'true',
    pwd: io.cwd,
  });
  const out = path.resolve(io.cwd, flags.archiveOut);
  await writeFile(out, packed.tar);
  if (flags.quiet !== true) {
    io.stderr(`herd archive: ${path.relative(io.cwd, out) || out} — ${(packed.tar.byteLength / 1024).toFixed(1)} kB, ${packed.vus} VUs, ${packed.files} file(s) besides the script\n`);
  }
  return ExitCode.ok;
}
