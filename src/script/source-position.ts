import { SourceMap, type SourceMapPayload } from 'node:module';
import { resolve } from 'node:path';

/** A position in a user's file (or remote module URL), 1-based line and column. */
export interface UserPosition {
  file: string;
  line: number;
  column: number;
}

/** Formats a position as `file:line:column`. */
export function formatPosition(p: UserPosition): string {
  return `${p.file}:${p.line}:${p.column}`;
}

/** The prefix esbuild gives sources that come from the remote-module namespace. */
export const REMOTE_NAMESPACE = 'remote';

/** Offsets of the first character of every line of `text`. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

/**
 * Maps positions of the esbuild bundle back to the user's files through esbuild's source map.
 * Lines without a mapping of their own (esbuild's runtime helpers) map to nothing rather than
 * to the closest earlier mapping, so helper frames never blame an unrelated user line.
 */
export class BundlePositions {
  private readonly map: SourceMap;
  private readonly starts: number[];

  constructor(
    bundleCode: string,
    map: SourceMapPayload,
    private readonly workDir: string,
  ) {
    this.map = new SourceMap(map);
    this.starts = lineStarts(bundleCode);
  }

  /** The user position of a 0-based line and column of the bundle. */
  atLineColumn(line0: number, column0: number): UserPosition | undefined {
    const e = this.map.findEntry(line0, column0) as Partial<{
      generatedLine: number;
      originalSource: string;
      originalLine: number;
      originalColumn: number;
    }>;
    if (e.originalSource === undefined || e.generatedLine !== line0) return undefined;
    return { file: this.sourceName(e.originalSource), line: (e.originalLine ?? 0) + 1, column: (e.originalColumn ?? 0) + 1 };
  }

  /** The user position of a character offset of the bundle. */
  atOffset(offset: number): UserPosition | undefined {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.atLineColumn(lo, offset - (this.starts[lo] ?? 0));
  }

  /** An absolute path for a file source, the URL for a remote one. */
  private sourceName(source: string): string {
    const prefix = `${REMOTE_NAMESPACE}:`;
    if (source.startsWith(prefix)) return source.slice(prefix.length);
    return resolve(this.workDir, source);
  }
}

/**
 * Maps stack frames of the transformed bundle (compiled under `filename`) to user positions:
 * first through the transform's map (transformed → bundle), then through esbuild's (bundle → user).
 */
export class StackMapper {
  private readonly transformMap: SourceMap;
  private readonly frame: RegExp;

  constructor(
    private readonly bundle: BundlePositions,
    transformMap: SourceMapPayload,
    filename: string,
  ) {
    this.transformMap = new SourceMap(transformMap);
    const escaped = filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    this.frame = new RegExp(`${escaped}:(\\d+):(\\d+)`, 'g');
  }

  /** The user position of a 1-based line and column of the transformed bundle. */
  locate(line: number, column: number): UserPosition | undefined {
    const e = this.transformMap.findEntry(line - 1, column - 1) as Partial<{
      generatedLine: number;
      originalLine: number;
      originalColumn: number;
    }>;
    if (e.originalLine === undefined || e.generatedLine !== line - 1) return undefined;
    return this.bundle.atLineColumn(e.originalLine, e.originalColumn ?? 0);
  }

  /** `text` with every `filename:line:column` rewritten to the user's `file:line:column`. */
  /**
   * A stack trace as users should see it: frames in the bundle mapped to their files, and
   * every other frame (herd's own code, Node internals, the sandbox prelude) left out.
   */
  mapStack(text: string): string {
    const out: string[] = [];
    for (const line of text.split('\n')) {
      if (/^\s+at /.test(line)) {
        this.frame.lastIndex = 0;
        if (!this.frame.test(line)) continue;
        this.frame.lastIndex = 0;
      }
      out.push(this.mapText(line));
    }
    return out.join('\n');
  }

  mapText(text: string): string {
    return text.replace(this.frame, (whole, l: string, c: string) => {
      const p = this.locate(Number(l), Number(c));
      return p === undefined ? whole : formatPosition(p);
    });
  }
}
