// The entry point of a `herd run` worker thread: one execution segment's VUs. See
// worker-protocol.ts for the conversation with the coordinator.
import { parentPort, workerData } from 'node:worker_threads';
import { runtimeOptions, type Options } from '../config/index.js';
import { HerdError, isHerdError } from '../errors/index.js';
import { parseExecutionSegment, workerSegment } from '../executor/index.js';
import { Collector, defineBuiltinMetrics, GroupTree, MetricRegistry, type Metric, type SampleSink, type TagSet } from '../metrics/index.js';
import { restoreSharedArray } from '../runtime/k6-data/index.js';
import type { Logger } from '../runtime/vu-state.js';
import { compileScript } from '../script/index.js';
import { Engine } from './engine.js';
import { EngineTestContext } from './test-context.js';
import type { ForwardedSample, FromWorker, ToWorker, WorkerInit } from './worker-protocol.js';

if (parentPort === null) throw new Error('worker-entry.js must run in a worker thread');
const port = parentPort;
const post = (m: FromWorker): void => port.postMessage(m);

/** Buffers raw samples for the coordinator's outputs; sent with each metrics tick. */
class SampleForwarder implements SampleSink {
  private buffer: ForwardedSample[] = [];
  add(metric: Metric, tags: TagSet, value: number, time?: number): void {
    this.buffer.push([metric.name, tags.pairs, value, time ?? Date.now()]);
    if (this.buffer.length >= 5000) this.flush();
  }
  flush(): void {
    if (this.buffer.length === 0) return;
    post({ type: 'samples', samples: this.buffer });
    this.buffer = [];
  }
}

/** open() from the archive's files when the run comes from one. */
function readerOf(files: ReadonlyMap<string, Uint8Array>): (path: string) => Uint8Array | undefined {
  return (path) => files.get(path);
}

async function main(init: WorkerInit): Promise<void> {
  const registry = new MetricRegistry();
  const collector = new Collector(registry);
  const forwarder = init.forwardSamples ? new SampleForwarder() : undefined;
  const sink: SampleSink =
    forwarder === undefined
      ? collector
      : {
          add(metric, tags, value, time) {
            const t = time ?? Date.now();
            collector.add(metric, tags, value, t);
            forwarder.add(metric, tags, value, t);
          },
        };
  const logger: Logger = { log: (level, message, fields) => post({ type: 'log', level, message, ...(fields === undefined ? {} : { fields }) }) };
  const options = init.options as Options;
  const test = new EngineTestContext(runtimeOptions(options), registry, defineBuiltinMetrics(registry), sink, new GroupTree(), logger);
  for (const sa of init.sharedArrays) restoreSharedArray(test, sa.name, sa.json);
  const engine = new Engine(
    {
      env: init.env,
      entry: init.entry,
      logger,
      ...(init.files === undefined ? {} : { readFile: readerOf(new Map(init.files)) }),
      onEnd: (code, message) => post({ type: 'ended', code, message }),
    },
    test,
    compileScript(init.artifact),
  );
  port.on('message', (m: ToWorker) => {
    if (m.type === 'stop') engine.endTest(m.code, m.message);
  });

  const first = await engine.initFirst();
  engine.configure(options, workerSegment(parseExecutionSegment(init.segment, init.sequence), init.part, init.parts), first.exports);
  await engine.initPool();
  const start = await new Promise<Extract<ToWorker, { type: 'start' }>>((resolve) => {
    const onStart = (m: ToWorker): void => {
      if (m.type === 'start') {
        port.off('message', onStart);
        resolve(m);
      }
    };
    port.on('message', onStart);
    post({ type: 'ready', counts: engine.counts() });
  });
  engine.setupJSON = start.setupJSON;
  test.started = start.startedAt;

  const tick = setInterval(() => {
    forwarder?.flush();
    post({ type: 'metrics', batch: collector.flushPeriod(Date.now()), counts: engine.counts(), progress: engine.scenarios.map((s) => s.progress) });
  }, 1000);
  try {
    if (!engine.testSignal.aborted) await engine.runScenarios();
  } finally {
    clearInterval(tick);
    engine.closeAll();
  }
  forwarder?.flush();
  post({ type: 'done', batch: collector.flushPeriod(Date.now()), groups: test.groups.root, counts: engine.counts() });
}

main(workerData as WorkerInit).catch((e: unknown) => {
  const err = isHerdError(e) ? e : new HerdError('internal', e instanceof Error ? (e.stack ?? e.message) : String(e));
  post({ type: 'failed', error: err.toPayload() });
});
