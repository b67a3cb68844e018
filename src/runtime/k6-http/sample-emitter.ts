import type { VuState } from '../vu-state.js';
import type { TagSet } from '../../metrics/tags.js';
import type { Timings } from './client/index.js';

/**
 * Emits one hop's samples with k6's metric names. http_req_failed is emitted only when a
 * response callback is in force (`failed` is then 0 or 1; -1 means no callback).
 * data_sent/data_received carry the VU's tags only (scenario, group, …), as k6 emits them
 * outside the request's tag set; that also keeps the number of series low. `now` is the
 * samples' time, epoch ms: when the hop ended, as k6 stamps them.
 */
export function emitHopSamples(vu: VuState, tags: TagSet, t: Timings, failed: number, bytesSent: number, bytesReceived: number, now: number): void {
  const m = vu.test.metrics;
  const sink = vu.test.sink;
  sink.add(m.http_reqs, tags, 1, now);
  sink.add(m.http_req_duration, tags, t.duration, now);
  sink.add(m.http_req_blocked, tags, t.blocked, now);
  sink.add(m.http_req_connecting, tags, t.connecting, now);
  sink.add(m.http_req_tls_handshaking, tags, t.tls_handshaking, now);
  sink.add(m.http_req_sending, tags, t.sending, now);
  sink.add(m.http_req_waiting, tags, t.waiting, now);
  sink.add(m.http_req_receiving, tags, t.receiving, now);
  if (failed >= 0) sink.add(m.http_req_failed, tags, failed, now);
  if (bytesSent > 0) sink.add(m.data_sent, vu.tags, bytesSent, now);
  if (bytesReceived > 0) sink.add(m.data_received, vu.tags, bytesReceived, now);
}
