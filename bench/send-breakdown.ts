// Where a gateway send's wall time goes, measured in the bench process by wrapping the seams a
// send crosses: JetStream publishes (each until its ack), the auth store's file IO (open, write,
// fsync, rename), and libsignal's encryption. For each kind the bench reports the wall time in
// which at least one such call was in progress (the union of their spans: Baileys writes several
// key files at once, and a publish runs while a key file is written), so a share is "of the wall
// time, X was going on", and shares of different kinds can overlap. The main thread's busy share
// comes from `performance.eventLoopUtilization()` over the same window.
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import libsignal from 'libsignal';
import { fmt } from './stats.js';

export const SPANS = ['jetstream', 'fileIo', 'fsync', 'encrypt'] as const;
export type Span = (typeof SPANS)[number];

const LABELS: Record<Span, string> = {
  jetstream: 'JetStream publishes, each until its ack',
  fileIo: "the account's auth store file IO (open, write, fsync, rename, close)",
  fsync: '… of which fsync (file and directory)',
  encrypt: 'Signal encryption (`SessionCipher.encrypt`)',
};

type AnyFn = (...args: unknown[]) => unknown;

export class SendBreakdown {
  recording = false;
  private readonly spans: Record<Span, [number, number][]> = { jetstream: [], fileIo: [], fsync: [], encrypt: [] };
  readonly calls: Record<Span, number> = { jetstream: 0, fileIo: 0, fsync: 0, encrypt: 0 };
  private readonly undo: (() => void)[] = [];
  private elu: ReturnType<typeof performance.eventLoopUtilization> | undefined;
  private active = 0;
  private idle = 0;

  /** File handles opened under `filesUnder`, so handle calls (write, fsync, close) can be attributed. */
  private readonly handlePaths = new WeakMap<object, string>();

  /**
   * `filesUnder`: only file IO on paths under this directory counts (the gateway account's own
   * auth store; other clients in the process write their stores too).
   */
  constructor(private readonly filesUnder: string) {}

  /** Wraps the seams; `nc` is any connection (the JetStream client class is shared). */
  async install(nc: NatsConnection): Promise<void> {
    const js = Object.getPrototypeOf(jetstream(nc)) as Record<string, AnyFn>;
    this.wrap(js, 'publish', ['jetstream']);
    const probe = await fsp.open(path.join(tmpdir(), `wa-connd-breakdown-${process.pid}`), 'w');
    const handle = Object.getPrototypeOf(probe) as Record<string, AnyFn>;
    await probe.close();
    await fsp.rm(path.join(tmpdir(), `wa-connd-breakdown-${process.pid}`), { force: true });
    const ours = (p: unknown) => typeof p === 'string' && p.startsWith(this.filesUnder);
    const ownHandle = (h: unknown) => typeof h === 'object' && h !== null && this.handlePaths.has(h);
    this.wrap(handle, 'sync', ['fileIo', 'fsync'], ownHandle);
    this.wrap(handle, 'writeFile', ['fileIo'], ownHandle);
    this.wrap(handle, 'close', ['fileIo'], ownHandle);
    // Named imports of node:fs/promises are live bindings: patch the object, then resync them.
    const promises = fsp as unknown as Record<string, AnyFn>;
    this.wrap(promises, 'open', ['fileIo'], (_h, args) => ours(args[0]));
    const open = promises['open']!;
    promises['open'] = async (...args: unknown[]) => {
      const h = (await open(...args)) as object;
      if (ours(args[0])) this.handlePaths.set(h, args[0] as string);
      return h;
    };
    this.undo.push(() => (promises['open'] = open));
    this.wrap(promises, 'rename', ['fileIo'], (_h, args) => ours(args[1]));
    syncBuiltinESMExports();
    const cipher = (libsignal as unknown as { SessionCipher: { prototype: Record<string, AnyFn> } }).SessionCipher
      .prototype;
    this.wrap(cipher, 'encrypt', ['encrypt']);
  }

  uninstall(): void {
    for (const u of this.undo.splice(0).reverse()) u();
    syncBuiltinESMExports();
  }

  start(): void {
    this.recording = true;
    this.elu = performance.eventLoopUtilization();
  }

  stop(): void {
    this.recording = false;
    if (!this.elu) return;
    const d = performance.eventLoopUtilization(this.elu);
    this.active += d.active;
    this.idle += d.idle;
  }

  /** Markdown table: per send, ms and share of the measured wall time per send. */
  render(sends: number, wallMsPerSend: number, replyMsPerSend: number): string {
    const row = (label: string, ms: number, calls: number) =>
      `| ${label} | ${fmt(calls / sends, 1)} | ${fmt(ms / sends, 2)} | ${fmt((100 * ms) / sends / wallMsPerSend, 0)} % |`;
    return [
      '| per gateway send (request → `send.acked` fact) | calls | ms in progress | share of wall |',
      '|---|---|---|---|',
      `| wall time | | ${fmt(wallMsPerSend, 2)} | 100 % |`,
      `| request → reply (\`send.queued\` stored, then the reply) | | ${fmt(replyMsPerSend, 2)} | ${fmt((100 * replyMsPerSend) / wallMsPerSend, 0)} % |`,
      ...SPANS.map((s) => row(LABELS[s], union(this.spans[s]), this.calls[s])),
      `| main thread busy (event-loop utilization) | | | ${fmt((100 * this.active) / (this.active + this.idle || 1), 0)} % |`,
    ].join('\n');
  }

  /** `counts`: whether this call is one to measure (default: every call while recording). */
  private wrap(
    target: Record<string, AnyFn>,
    name: string,
    spans: Span[],
    counts: (self: unknown, args: unknown[]) => boolean = () => true,
  ): void {
    const original = target[name]!;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper needs both `this`es
    const self = this;
    target[name] = function (this: unknown, ...args: unknown[]) {
      if (!self.recording || !counts(this, args)) return original.apply(this, args);
      const t0 = performance.now();
      const done = () => {
        const t1 = performance.now();
        for (const s of spans) {
          self.spans[s].push([t0, t1]);
          self.calls[s]++;
        }
      };
      const out = original.apply(this, args);
      if (out instanceof Promise) return out.finally(done);
      done();
      return out;
    };
    this.undo.push(() => (target[name] = original));
  }
}

/** Total length covered by a set of intervals (overlaps counted once). */
function union(intervals: [number, number][]): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of sorted) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}
