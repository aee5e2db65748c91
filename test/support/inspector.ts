/**
 * A minimal Chrome DevTools Protocol client for a child started with `--inspect=127.0.0.1:0`:
 * the soak forces a full GC in the gateway child before it samples memory, and reads
 * `process.memoryUsage()`, the active resources and heap snapshots there, without any
 * debugging hook in the gateway itself. Close it before stopping the child: Node waits for
 * an attached debugger to disconnect before it exits.
 */
import { until } from './waiters.js';

/** Node prints this on stderr when the inspector listens (`--inspect=host:0` picks a free port). */
const LISTENING = /Debugger listening on (ws:\/\/\S+)/;
const ATTACH_DEADLINE_MS = 30_000;

export type Inspector = {
  /** HeapProfiler.collectGarbage: a full, compacting collection in the child. */
  gc(): Promise<void>;
  /** Evaluates `expression` in the child's main context and returns its (JSON-able) value. */
  evaluate<T>(expression: string): Promise<T>;
  close(): void;
};

export async function attachInspector(stderr: () => string): Promise<Inspector> {
  const url = await until(
    'the child printing its inspector URL',
    () => stderr().match(LISTENING)?.[1],
    ATTACH_DEADLINE_MS,
    50,
  );
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`inspector ${url} refused`)), { once: true });
  });
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  ws.addEventListener('message', (m) => {
    const msg = JSON.parse(String(m.data)) as { id?: number; result?: unknown; error?: { message: string } };
    const p = msg.id === undefined ? undefined : pending.get(msg.id);
    if (!p || msg.id === undefined) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(msg.error.message));
    else p.resolve(msg.result);
  });
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    gc: async () => {
      await call('HeapProfiler.collectGarbage');
    },
    evaluate: async <T>(expression: string) => {
      const r = (await call('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })) as {
        result: { value: T };
        exceptionDetails?: { text: string };
      };
      if (r.exceptionDetails) throw new Error(`inspector evaluate: ${r.exceptionDetails.text}`);
      return r.result.value;
    },
    close: () => ws.close(),
  };
}
