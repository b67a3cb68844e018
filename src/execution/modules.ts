import { createK6Module } from '../runtime/k6/index.js';
import { createCryptoModule } from '../runtime/k6-crypto/index.js';
import { createDataModule } from '../runtime/k6-data/index.js';
import { createEncodingModule } from '../runtime/k6-encoding/index.js';
import { createExecutionModule } from '../runtime/k6-execution/index.js';
import { createHttpModule } from '../runtime/k6-http/index.js';
import { createMetricsModule } from '../runtime/k6-metrics/index.js';
import { createTimersModule } from '../runtime/k6-timers/index.js';
import { createWebSocketsModule } from '../runtime/k6-websockets/index.js';
import { createWsModule } from '../runtime/k6-ws/index.js';
import type { RuntimeModule } from '../runtime/vu-state.js';

/** Engine services that some modules need. */
export interface ModuleHooks {
  randomSeed(seed: number): void;
  open(file: string, mode: string | undefined, baseDir: string | undefined): string | ArrayBuffer;
}

/** Every k6 built-in module specifier herd provides, in one explicit list. */
export const builtinModuleSpecifiers: readonly string[] = [
  'k6',
  'k6/http',
  'k6/metrics',
  'k6/execution',
  'k6/data',
  'k6/encoding',
  'k6/crypto',
  'k6/timers',
  'k6/ws',
  'k6/websockets',
];

/** Creates the built-in modules of one test run, keyed by specifier. */
export function createBuiltinModules(hooks: ModuleHooks): ReadonlyMap<string, RuntimeModule> {
  const list: RuntimeModule[] = [
    createK6Module((seed) => hooks.randomSeed(seed)),
    createHttpModule(),
    createMetricsModule(),
    createExecutionModule(),
    createDataModule(),
    createEncodingModule(),
    createCryptoModule(),
    createTimersModule(),
    createWsModule(),
    createWebSocketsModule(),
  ];
  const map = new Map<string, RuntimeModule>();
  for (const m of list) map.set(m.specifier, m);
  for (const s of builtinModuleSpecifiers) if (!map.has(s)) throw new Error(`built-in module ${s} has no implementation`);
  return map;
}
