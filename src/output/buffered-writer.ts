import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished, pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import { HerdError } from '../errors/index.js';

/** Where a sample output writes: a file (gzipped when `gzip`), or a stream it does not own. */
export type OutputTarget = { kind: 'file'; path: string; gzip: boolean } | { kind: 'stream'; stream: Writable };

/** Buffering settings shared by the sample outputs. */
export interface BufferOptions {
  /** Write once this many characters are buffered (default 64 KiB). */
  flushBytes?: number;
  /** Write at least this often while samples come in (default 1000 ms). */
  flushIntervalMs?: number;
}

const DEFAULT_FLUSH_BYTES = 64 * 1024;
const DEFAULT_FLUSH_INTERVAL_MS = 1000;

/**
 * Text appended to a string buffer and written in large chunks: one write per `flushBytes`
 * or per `flushIntervalMs`, never one per sample, because a sample output sees hundreds of
 * thousands of lines a second. The stream buffers what the disk has not taken yet.
 * `close()` writes what is left, then ends the file (and its gzip trailer); safe to call twice.
 */
export class BufferedWriter {
  private buffer = '';
  private stream: Writable | undefined;
  private done: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private error: unknown;
  private closed = false;
  private readonly flushBytes: number;
  private readonly flushIntervalMs: number;

  constructor(
    private readonly target: OutputTarget,
    private readonly label: string,
    options: BufferOptions = {},
  ) {
    this.flushBytes = options.flushBytes ?? DEFAULT_FLUSH_BYTES;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
  }

  /** Opens the file (failing with HerdError `invalid_flag` when it cannot be created) and starts the flush timer. */
  async open(): Promise<void> {
    if (this.stream !== undefined) return;
    if (this.target.kind === 'stream') {
      this.stream = this.target.stream;
    } else {
      const file: WriteStream = createWriteStream(this.target.path);
      try {
        await once(file, 'open');
      } catch (e) {
        throw new HerdError('invalid_flag', `could not create the ${this.label} output file "${this.target.path}": ${messageOf(e)}`, {
          hint: 'check that the directory exists and is writable',
        });
      }
      if (this.target.gzip) {
        const gzip: Gzip = createGzip();
        this.stream = gzip;
        this.done = pipeline(gzip, file).catch((e: unknown) => this.fail(e));
      } else {
        file.on('error', (e) => this.fail(e));
        this.stream = file;
        this.done = finished(file).catch((e: unknown) => this.fail(e));
      }
    }
    this.timer = setInterval(() => this.flush(), this.flushIntervalMs);
    // A pending flush must never keep the process alive.
    this.timer.unref();
  }

  /** Appends `text`, writing the buffer out once it is large. */
  append(text: string): void {
    if (this.closed) return;
    this.buffer += text;
    if (this.buffer.length >= this.flushBytes) this.flush();
  }

  /** Writes the buffer out now (a no-op before `open`). */
  flush(): void {
    if (this.stream === undefined || this.buffer === '' || this.error !== undefined) return;
    const chunk = this.buffer;
    this.buffer = '';
    this.stream.write(chunk);
  }

  /** Writes what is left and closes the file; rejects with HerdError `internal` when a write failed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.flush();
    if (this.target.kind === 'file' && this.stream !== undefined) {
      this.stream.end();
      await this.done;
    }
    if (this.error !== undefined) {
      throw new HerdError('internal', `could not write the ${this.label} output: ${messageOf(this.error)}`);
    }
  }

  private fail(e: unknown): void {
    if (this.error === undefined) this.error = e;
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The target of an output given its path: `-` or '' is the stdout stream. */
export function targetOf(path: string, stdout: Writable | undefined, label: string): OutputTarget {
  if (path === '' || path === '-') {
    if (stdout === undefined) throw new HerdError('internal', `the ${label} output to stdout needs the stdout option`);
    return { kind: 'stream', stream: stdout };
  }
  return { kind: 'file', path, gzip: path.endsWith('.gz') };
}
