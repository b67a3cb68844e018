import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { ExitCode, HerdError, type ExitCodeValue } from '../errors/index.js';
import { packRun } from '../execution/index.js';
import type { Run, RunStatus } from '../protocol/index.js';
import { formatStatus, isFinal } from '../protocol/index.js';
import { ApiClient, ApiRequestError } from './api-client.js';
import type { CliIO } from './io.js';
import { createLogger } from './logger.js';
import { readArchiveFile, type ArchiveFile } from './load-archive.js';
import type { Options } from '../config/index.js';
import { optionLayers, scriptEnv, type RunFlags } from './run-command.js';

/** Flags every `herd cloud` command takes. */
export interface CloudFlags {
  host?: string;
  token?: string;
}

/** Flags of `herd cloud run`. */
export interface CloudRunFlags extends RunFlags, CloudFlags {
  name?: string;
  project?: string;
  follow?: boolean;
}

interface Project {
  id: string;
  name: string;
}

function client(flags: CloudFlags, io: CliIO): ApiClient {
  const host = flags.host ?? io.env['HERD_HOST'] ?? 'http://127.0.0.1:8080';
  const token = flags.token ?? io.env['HERD_TOKEN'];
  if (token === undefined || token === '') {
    throw new HerdError('invalid_flag', 'no API token: give --token or set HERD_TOKEN', {
      hint: '`herd server` prints an admin token on its first start (or set HERD_ADMIN_TOKEN for it)',
    });
  }
  // A token pasted with a line break or other control character cannot be sent in a header;
  // fetch would fail in a way the CLI could only report as an unreachable server.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new HerdError('invalid_flag', `the API token (${flags.token !== undefined ? '--token' : 'HERD_TOKEN'}) has spaces, line breaks or other characters a token cannot have`, {
      hint: 'copy only the token that `herd server` printed, e.g. herd_…, without surrounding text',
    });
  }
  try {
    new URL(host);
  } catch {
    throw new HerdError('invalid_flag', `--host must be a URL like http://127.0.0.1:8080, got ${JSON.stringify(host)}`);
  }
  return new ApiClient(host, token);
}

/** k6's exit codes for a cloud run's end (k6 ≥ 0.54). */
export function cloudExitCode(run: Pick<Run, 'status' | 'result'>): ExitCodeValue {
  if (run.result === 'passed' && run.status.code === 3) return ExitCode.ok;
  if (run.result === 'failed' && (run.status.code === 3 || run.status.code === 8)) return ExitCode.thresholdsHaveFailed;
  return ExitCode.cloudTestRunFailed;
}

function describeEnd(run: Run): string {
  const result = run.result === null ? '' : `, result ${run.result}`;
  return `${formatStatus(run.status)}${result}\n  reason: ${run.lastChange.reason} — ${run.lastChange.message}`;
}

/** Turns API errors into HerdErrors with the server's words. */
async function call<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof ApiRequestError) {
      const code = e.status === 401 || e.status === 403 ? 'invalid_flag' : e.status === 404 ? 'not_found' : 'cloud_request_failed';
      throw new HerdError(code, `the herd server refused: ${e.message}`, e.hint === undefined ? {} : { hint: e.hint });
    }
    throw e;
  }
}

/**
 * `herd cloud run`: packs the script into an archive, uploads it, follows the run live (each
 * status change as `Name (code)`, a progress line while Running) and exits with k6's codes.
 * Ctrl+C aborts the run (Aborted by user) and exits 105.
 */
export async function cloudRunCommand(script: string, flags: CloudRunFlags, io: CliIO): Promise<number> {
  const api = client(flags, io);
  const color = flags.color !== false && io.stderrIsTTY && io.env['NO_COLOR'] === undefined;
  const logger = createLogger({ write: (t) => io.stderr(t), color });
  const entry = path.resolve(io.cwd, script);
  if (!existsSync(entry)) throw new HerdError('script_not_found', `the script ${script} does not exist (looked at ${entry})`);
  const { env, userEnv } = scriptEnv({ env: flags.env }, io);

  const archiveFile = await readArchiveFile(entry);
  const packed = archiveFile !== undefined ? fromArchive(archiveFile) : await packRun({
    entry,
    env,
    userEnv,
    layers: optionLayers(flags, io),
    cacheDir: path.join(io.env['HERD_CACHE_DIR'] ?? path.join(os.homedir(), '.cache', 'herd'), 'modules'),
    logger,
    allowInsecureRemote: io.env['HERD_ALLOW_INSECURE_IMPORTS'] === 'true',
  });
  const projects = await call(() => api.json<{ projects: Project[] }>('GET', '/api/v1/projects'));
  const project = flags.project ?? projects.projects[0]?.id;
  if (project === undefined) throw new HerdError('not_found', 'the organization has no project to run tests in', { hint: 'create one with the API' });
  const cloudOptions = (packed.options.cloud ?? {}) as Record<string, unknown>;
  const testName = flags.name ?? archiveFile?.testName ?? (typeof cloudOptions['name'] === 'string' ? cloudOptions['name'] : path.basename(script));
  if (flags.quiet !== true) {
    io.stderr(`herd cloud: ${testName} — ${packed.vus} VUs, archive ${(packed.archive.byteLength / 1024).toFixed(1)} kB${packed.files > 0 ? ` with ${packed.files} file(s)` : ''}\n`);
  }
  const estimate = await call(() => api.upload<{ vuHours: number }>('/api/v1/estimate', {}, 'archive', packed.archive, 'archive.tar.gz')).catch(() => undefined);
  if (estimate !== undefined && flags.quiet !== true) io.stderr(`estimated usage: ${estimate.vuHours.toFixed(4)} VU-hours\n`);
  const created = await call(() => api.upload<Run>('/api/v1/runs', { projectId: project, testName }, 'archive', packed.archive, 'archive.tar.gz'));
  io.stdout(`run ${created.id}: ${new URL(`/#/runs/${created.id}`, api.baseUrl).href}\n`);
  if (flags.follow === false) {
    io.stdout(`${formatStatus(created.status)}\n`);
    return ExitCode.ok;
  }
  return follow(api, created, io, flags.quiet === true);
}

/** A ready archive (herd's, or a converted k6 one) as if packed here. */
function fromArchive(file: ArchiveFile): { archive: Uint8Array; options: Options; vus: number; files: number } {
  const options = file.archive.metadata.options as Options;
  return { archive: file.bytes, options, vus: Number(options.vus ?? 0), files: file.archive.files.size };
}

/** Follows a run to its end; exits with k6's cloud exit codes (105 after Ctrl+C). */
async function follow(api: ApiClient, created: Run, io: CliIO, quiet: boolean): Promise<number> {
  let last: RunStatus = created.status;
  // Status changes are printed from the run's history, so none is missed between events.
  let printed = 0;
  const printHistory = async (): Promise<void> => {
    const h = await call(() => api.json<{ changes: Array<{ status: RunStatus }> }>('GET', `/api/v1/runs/${created.id}/history`));
    for (; printed < h.changes.length; printed++) {
      const change = h.changes[printed];
      if (change === undefined || change.status.code < 0) continue; // Created and Validated happen before upload returns
      clearProgress();
      io.stdout(`${formatStatus(change.status)}\n`);
      last = change.status;
    }
  };
  let aborted = false;
  const stop = new AbortController();
  const offInterrupt = io.onInterrupt(() => {
    if (aborted) io.exit(ExitCode.externalAbort);
    aborted = true;
    io.stderr('aborting the run (press Ctrl+C again to stop waiting)\n');
    api.json('POST', `/api/v1/runs/${created.id}/abort`).catch((e: unknown) => io.stderr(`abort failed: ${(e as Error).message}\n`));
  });
  const showProgress = !quiet;
  let progressShown = false;
  function clearProgress(): void {
    if (progressShown && io.stderrIsTTY) io.stderr('\r\x1b[K');
    progressShown = false;
  }
  try {
    await printHistory();
    if (!isFinal(created.status)) {
      for (let attempt = 0; attempt < 5 && !isFinal(last); attempt++) {
        try {
          for await (const ev of api.events(`/api/v1/events?runId=${created.id}`, stop.signal)) {
            const data = ev.data as Record<string, unknown>;
            if (ev.event === 'status') {
              await printHistory();
              if (isFinal(data['status'] as RunStatus)) break;
            } else if (ev.event === 'progress' && showProgress) {
              const line = `running: ${data['vus']}/${data['vusMax']} VUs, ${Number(data['rps']).toFixed(0)} req/s, ${data['iterations']} iterations, ${Math.round(Number(data['progress']) * 100)}%`;
              if (io.stderrIsTTY) io.stderr(`\r\x1b[K${line}`);
              else io.stderr(`${line}\n`);
              progressShown = true;
            } else if (ev.event === 'warning') {
              clearProgress();
              io.stderr(`warning: ${String(data['message'])}\n`);
            }
          }
        } catch (e) {
          if ((e as Error).name === 'AbortError') break;
          if (e instanceof HerdError) throw e;
        }
        // The stream ended (server restart, proxy): catch up from the history and follow again.
        await printHistory();
      }
    }
    await printHistory();
    clearProgress();
    const final = await call(() => api.json<Run>('GET', `/api/v1/runs/${created.id}`));
    if (!isFinal(final.status)) {
      throw new HerdError('cloud_unreachable', `lost track of run ${created.id} while it was ${formatStatus(final.status)}`);
    }
    io.stdout(`${describeEnd(final)}\n`);
    if (aborted) return ExitCode.externalAbort;
    return cloudExitCode(final);
  } finally {
    stop.abort();
    offInterrupt();
  }
}

/** `herd cloud status <id>`: the run's status, result and reason; exits like `cloud run` would. */
export async function cloudStatusCommand(id: string, flags: CloudFlags, io: CliIO): Promise<number> {
  const run = await call(() => client(flags, io).json<Run>('GET', `/api/v1/runs/${encodeURIComponent(id)}`));
  io.stdout(`run ${run.id}: ${describeEnd(run)}\n`);
  return isFinal(run.status) ? cloudExitCode(run) : ExitCode.ok;
}

/** `herd cloud abort <id>`. */
export async function cloudAbortCommand(id: string, flags: CloudFlags, io: CliIO): Promise<number> {
  const run = await call(() => client(flags, io).json<Run>('POST', `/api/v1/runs/${encodeURIComponent(id)}/abort`));
  io.stdout(`run ${run.id}: ${formatStatus(run.status)}\n`);
  return ExitCode.ok;
}

/** `herd cloud ls`: recent runs, newest first. */
export async function cloudListCommand(flags: CloudFlags & { status?: string; limit?: string }, io: CliIO): Promise<number> {
  const q = new URLSearchParams();
  if (flags.status !== undefined) q.set('status', flags.status);
  q.set('limit', flags.limit ?? '20');
  const list = await call(() => client(flags, io).json<{ runs: Run[] }>('GET', `/api/v1/runs?${q.toString()}`));
  for (const r of list.runs) {
    io.stdout(`${r.id.padStart(6)}  ${formatStatus(r.status).padEnd(28)} ${(r.result ?? '-').padEnd(7)} ${r.createdAt}\n`);
  }
  return ExitCode.ok;
}
