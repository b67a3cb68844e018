import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { ResourceSample } from '../agent/index.js';

/** The memory this process may use: the cgroup limit when there is one, else the machine's. */
function memoryLimit(): number {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const text = readFileSync(file, 'utf8').trim();
      const n = Number(text);
      if (Number.isFinite(n) && n > 0 && n < os.totalmem()) return n;
    } catch {
      // not in a cgroup with a limit: fall through
    }
  }
  return os.totalmem();
}

/** Samples machine CPU (busy share since the previous call) and this process's memory. */
export function resourceSampler(): () => ResourceSample {
  const totals = (): { idle: number; total: number } => {
    let idle = 0;
    let total = 0;
    for (const c of os.cpus()) {
      const t = c.times;
      idle += t.idle;
      total += t.user + t.nice + t.sys + t.idle + t.irq;
    }
    return { idle, total };
  };
  let last = totals();
  const limit = memoryLimit();
  return () => {
    const now = totals();
    const dTotal = now.total - last.total;
    const dIdle = now.idle - last.idle;
    last = now;
    return {
      cpuPercent: dTotal <= 0 ? 0 : (100 * (dTotal - dIdle)) / dTotal,
      memoryUsedBytes: process.memoryUsage().rss,
      memoryLimitBytes: limit,
    };
  };
}
