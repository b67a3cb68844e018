import { HerdError } from '../../errors/index.js';

/** The connection params both WebSocket modules take, after checking. */
export interface WsParams {
  /** Extra handshake headers, in the script's order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Tags added to every ws_* sample of the connection. */
  readonly tags: ReadonlyArray<readonly [string, string]>;
  /** True for `compression: 'deflate'` (permessage-deflate). */
  readonly compression: boolean;
}

/** Params when the script gives none. */
export const DEFAULT_WS_PARAMS: WsParams = { headers: [], tags: [], compression: false };

function bad(message: string): HerdError {
  return new HerdError('script_exception', message);
}

function stringPairs(v: unknown, path: string): Array<readonly [string, string]> {
  if (v === null || v === undefined) return [];
  if (typeof v !== 'object') throw bad(`${path} must be an object, got ${typeof v}`);
  const out: Array<readonly [string, string]> = [];
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const val = o[k];
    // k6 skips unset values rather than sending "undefined".
    if (val === undefined || val === null) continue;
    out.push([k, typeof val === 'string' ? val : String(val)]);
  }
  return out;
}

function parseCompression(v: unknown, path: string): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (v === 'deflate') return true;
  throw bad(`${path} must be "deflate" or empty, got ${JSON.stringify(v)}: unsupported compression algorithm, the only supported one is deflate`);
}

/**
 * Checks the params object of `ws.connect` or `new WebSocket` (`what` names the call in
 * messages). Keys k6 knows but herd does not implement (`jar`) and unknown keys are ignored,
 * as k6 ignores unknown keys.
 */
export function parseWsParams(v: unknown, what: string): WsParams {
  if (v === undefined || v === null) return DEFAULT_WS_PARAMS;
  if (typeof v !== 'object') throw bad(`${what}'s params must be an object, got ${typeof v}`);
  const o = v as Record<string, unknown>;
  return {
    headers: stringPairs(o['headers'], 'params.headers'),
    tags: stringPairs(o['tags'], 'params.tags'),
    compression: parseCompression(o['compression'], 'params.compression'),
  };
}
