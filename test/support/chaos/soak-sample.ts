/**
 * The soak's per-hour resource sample of the gateway child. RSS and heap are read twice:
 * as the process is (its /metrics, what an operator's dashboard shows) and after a full
 * GC forced through the child's inspector — only the latter tells live memory from memory
 * V8 or the allocator holds after a peak (docs/testing.md, "Soak").
 */
import { readFile } from 'node:fs/promises';
import type { Inspector } from '../inspector.js';
import { parsePrometheusText } from '../prom-text.js';

export type HourSample = {
  hour: number;
  /** RSS and V8 heap in use as they are at the hour's end (no GC forced). */
  rssMiB: number;
  heapMiB: number;
  /** After a forced full GC: RSS, V8 heap in use, external memory (Buffers etc.). */
  rssAfterGcMiB: number;
  heapAfterGcMiB: number;
  externalAfterGcMiB: number;
  /** Anonymous resident memory (heap, malloc arenas) from /proc; NaN off Linux. */
  rssAnonMiB: number;
  /** Event-loop delay p99 over the hour, CPU spent in it. */
  eldP99Ms: number;
  cpuMs: number;
  /** process.getActiveResourcesInfo() counted by kind (TCPSocketWrap, Timeout…). */
  resources: Record<string, number>;
};

const MIB = 2 ** 20;

type Memory = { rss: number; heapUsed: number; external: number; resources: string[] };

async function rssAnonMiB(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = Number(status.match(/^RssAnon:\s+(\d+) kB/m)?.[1]);
    return kb / 1024;
  } catch {
    return NaN;
  }
}

/** One sample: /metrics first (as the process is), then a forced GC and the child's own figures. */
export async function sampleHour(
  hour: number,
  metricsUrl: string,
  inspector: Inspector,
  pid: number,
  lastCpuSeconds: number,
): Promise<{ sample: HourSample; cpuSeconds: number }> {
  const m = parsePrometheusText(await (await fetch(metricsUrl)).text());
  const value = (name: string, labels: Record<string, string> = {}) =>
    m.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value ?? NaN;
  const cpu = value('process_cpu_seconds_total');
  await inspector.gc();
  const after = await inspector.evaluate<Memory>(
    '({ ...process.memoryUsage(), resources: process.getActiveResourcesInfo() })',
  );
  const resources: Record<string, number> = {};
  for (const r of after.resources) resources[r] = (resources[r] ?? 0) + 1;
  return {
    cpuSeconds: cpu,
    sample: {
      hour,
      rssMiB: value('process_resident_memory_bytes') / MIB,
      heapMiB: value('nodejs_heap_size_used_bytes') / MIB,
      rssAfterGcMiB: after.rss / MIB,
      heapAfterGcMiB: after.heapUsed / MIB,
      externalAfterGcMiB: after.external / MIB,
      rssAnonMiB: await rssAnonMiB(pid),
      eldP99Ms: value('wa_event_loop_delay_seconds', { stat: 'p99' }) * 1000,
      cpuMs: (cpu - lastCpuSeconds) * 1000,
      resources,
    },
  };
}

/** Writes a heap snapshot in the child (after a GC) to `path`; for comparing start and end by constructor. */
export async function heapSnapshot(inspector: Inspector, path: string): Promise<void> {
  await inspector.gc();
  await inspector.evaluate<string>(`process.getBuiltinModule('v8').writeHeapSnapshot(${JSON.stringify(path)})`);
}
