// Webhook delivery throughput and latency (event stored → receiver 2xx) to a local HTTP
// receiver: one endpoint, 1 and 50 accounts, batching off (one event per request).
// Each case runs on its own nats-server (temp store) so the consumer sees only its events.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { pino } from 'pino';
import { encodeEvent, evtSubject, makeEvent, webhookEndpointSchema } from '../src/contract/index.js';
import { DEFAULT_STREAM_SETTINGS, ensureStream } from '../src/nats/stream.js';
import { WebhookService } from '../src/webhooks/service.js';
import { connectTo, startNatsServer } from '../test/support/nats-server.js';
import type { BenchSection } from './run.js';
import { fmt, median, percentile } from './stats.js';

/** Events per case for the throughput row (a backlog drained as fast as it goes). */
const BACKLOG = Number(process.env.WEBHOOK_BENCH_EVENTS ?? 5_000);
/** Events per case for the latency row, published at PACE_PER_S, so the endpoint is not behind. */
const PACED = Math.min(BACKLOG, 2_000);
const PACE_PER_S = 500;
/** The latency row's deadline per case: far above what a healthy run needs. */
const CASE_DEADLINE_MS = 120_000;

export const title = 'Webhook delivery';

type CaseResult = { accounts: number; concurrency: number; eventsPerS: number; latencyMs: number[] };

export default async function webhooksBench(): Promise<BenchSection> {
  const results: CaseResult[] = [];
  for (const accounts of [1, 50]) results.push(await runCase(accounts, Math.min(accounts, 50)));
  const rows = results.map(
    (r) =>
      `| ${r.accounts} | ${r.concurrency} | ${fmt(r.eventsPerS, 0)} | ${fmt(median(r.latencyMs))} | ${fmt(percentile(r.latencyMs, 99))} | ${fmt(Math.max(...r.latencyMs))} |`,
  );
  const markdown = [
    'One endpoint (`src/webhooks/`) on its own durable consumer, signing each request (Standard Webhooks, HMAC-SHA256),',
    'to a Node `http` receiver on loopback answering 204 at once (no verification). Batching off: one event per request.',
    `*Throughput*: ${BACKLOG} \`message.in\` events stored first, spread round-robin over the accounts; time from the`,
    'endpoint start to the last 2xx. *Latency*: then ' + `${PACED} events published at ${PACE_PER_S}/s; per event, its`,
    'JetStream publish (its start) → the receiver answering it. Per account strictly in order; accounts in parallel up to `concurrency`.',
    '',
    '| accounts | concurrency | events/s (backlog) | latency p50 (ms) | p99 (ms) | max (ms) |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    'Target (issue 17): ≥ 2,000 events/s with batching off, p99 ≤ 50 ms.',
  ].join('\n');
  return { title, markdown };
}

async function runCase(accountCount: number, concurrency: number): Promise<CaseResult> {
  const server = await startNatsServer();
  const nc = await connectTo(server.url);
  const arrivals = new Map<string, number>();
  let waiting: (() => void) | null = null;
  let target = 0;
  const http = createServer((req, res) => {
    const id = String(req.headers['webhook-id']);
    req.resume();
    req.on('end', () => {
      res.writeHead(204).end();
      if (!arrivals.has(id)) arrivals.set(id, performance.now());
      if (arrivals.size >= target && waiting) waiting();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/hook`;
  let service: WebhookService | undefined;
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, DEFAULT_STREAM_SETTINGS, pino({ level: 'silent' }));
    const js = jetstream(nc);
    const accounts = Array.from({ length: accountCount }, (_, i) => `b${i}`);
    const seqs = new Map<string, number>();
    const publish = async (i: number): Promise<{ id: string; sentAt: number }> => {
      const account = accounts[i % accounts.length] as string;
      const seq = (seqs.get(account) ?? 0) + 1;
      seqs.set(account, seq);
      const event = makeEvent(
        'message.in',
        { account, seq, at: new Date() },
        {
          waMessageId: `B${i}`,
          from: 'x@s.whatsapp.net',
          chat: 'x@s.whatsapp.net',
          text: 'bench',
          timestamp: new Date().toISOString(),
        },
      );
      // From before the publish: its ack can come after the consumer already got the event.
      const sentAt = performance.now();
      await js.publish(evtSubject(account, 'message.in'), encodeEvent(event));
      return { id: `evt_${account}_${seq}`, sentAt };
    };
    const arrived = (n: number) =>
      new Promise<void>((resolve, reject) => {
        target = n;
        if (arrivals.size >= n) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`${arrivals.size}/${n} delivered within ${CASE_DEADLINE_MS} ms`)),
          CASE_DEADLINE_MS,
        );
        waiting = () => {
          clearTimeout(timer);
          waiting = null;
          resolve();
        };
      });

    // Throughput: a stored backlog, drained.
    for (let i = 0; i < BACKLOG; i += 100)
      await Promise.all(Array.from({ length: Math.min(100, BACKLOG - i) }, (_, k) => publish(i + k)));
    const endpoint = webhookEndpointSchema.parse({
      id: 'bench',
      url,
      secret: `whsec_${randomBytes(32).toString('base64')}`,
      startAt: 'all',
      concurrency,
    });
    const t0 = performance.now();
    service = await WebhookService.start({
      nc,
      logger: pino({ level: 'silent' }),
      endpoints: [endpoint],
      allowPrivateAddresses: true,
      ackWaitMs: 30_000,
      deadLetter: () => undefined,
    });
    await arrived(BACKLOG);
    const eventsPerS = BACKLOG / ((performance.now() - t0) / 1000);

    // Latency: paced publishes, each measured from its publish to its 2xx.
    const sent: { id: string; sentAt: number }[] = [];
    const gap = 1000 / PACE_PER_S;
    const start = performance.now();
    for (let i = 0; i < PACED; i++) {
      const due = start + i * gap;
      const now = performance.now();
      if (due > now) await new Promise((resolve) => setTimeout(resolve, due - now));
      sent.push(await publish(BACKLOG + i));
    }
    await arrived(BACKLOG + PACED);
    const latencyMs = sent.map((s) => (arrivals.get(s.id) ?? Number.NaN) - s.sentAt);
    return { accounts: accountCount, concurrency, eventsPerS, latencyMs };
  } finally {
    await service?.close();
    await new Promise((resolve) => http.close(resolve));
    await nc.close();
    await server.stop();
  }
}
