import type { Socket } from 'node:net';
import type { TagSet } from '../../metrics/index.js';
import type { VuState } from '../vu-state.js';

/**
 * Turns a connection's socket byte counters into data_sent / data_received samples. The counts
 * are the socket's own (`bytesWritten`, `bytesRead`): every handshake and frame byte, headers
 * and masking included. Over TLS they are the socket's view, which is close to, not exactly,
 * the bytes on the wire. Samples carry the VU's tags only, as k6/http's do.
 */
export class ByteMeter {
  private socket: Socket | null = null;
  private read = 0;
  private written = 0;
  private lastFlush = 0;

  /** A meter reporting to `vu`'s sink with `tags`. */
  constructor(
    private readonly vu: VuState,
    private readonly tags: TagSet,
  ) {}

  /** Starts counting `socket` (the handshake response's socket). */
  attach(socket: Socket): void {
    this.socket = socket;
  }

  /** Emits the bytes moved since the last flush. */
  flush(): void {
    const s = this.socket;
    if (s === null) return;
    this.lastFlush = performance.now();
    const read = s.bytesRead;
    const written = s.bytesWritten;
    const m = this.vu.test.metrics;
    const now = Date.now();
    if (written > this.written) this.vu.test.sink.add(m.data_sent, this.tags, written - this.written, now);
    if (read > this.read) this.vu.test.sink.add(m.data_received, this.tags, read - this.read, now);
    this.read = read;
    this.written = written;
  }

  /** Flushes when the last flush is at least `ms` old: long sessions report traffic as it happens. */
  flushIfOlder(ms: number): void {
    if (performance.now() - this.lastFlush >= ms) this.flush();
  }
}
