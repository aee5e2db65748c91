// Webhooks in the whole gateway (startGateway with a configured endpoint, real NATS,
// Baileys against the simulator): the account's real events reach the receiver signed
// and in order; events the receiver refuses become webhook.dead_lettered events of the
// account on the stream, and /metrics counts them per endpoint.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, startScenario, type Scenario } from '../support/gateway-scenario.js';
import { dumpStream } from '../support/nats-client.js';
import { connectTo } from '../support/nats-server.js';
import { parsePrometheusText, sum } from '../support/prom-text.js';
import { until } from '../support/waiters.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';

let s: Scenario;
let r: Receiver;
let key: string;

/** The data of the first server-sent event at `url` (the inspector's `hello` snapshot). */
async function firstSseEvent(url: string): Promise<string> {
  const res = await fetch(url);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes('\n\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return /^data: (.*)$/m.exec(text)?.[1] ?? '';
}

beforeAll(async () => {
  key = `whsec_${randomBytes(32).toString('base64')}`;
  r = await startReceiver(key);
  // Transitions are accepted, keepalives refused: the first dead letters come within seconds.
  r.behave = (x) => (x.type === 'keepalive' ? { kind: 'status', status: 422 } : { kind: 'ok' });
  s = await startScenario({
    webhooks: {
      allowPrivateAddresses: true,
      endpoints: [
        {
          id: 'crm',
          url: r.url,
          secret: key,
          types: ['transition', 'keepalive'],
          startAt: 'all',
          timeoutMs: 1_000,
          retry: { attempts: 2, baseMs: 5, capMs: 20 },
        },
      ],
    },
  });
  await s.entered('open');
});

afterAll(async () => {
  await s?.close();
  await r?.close();
});

describe('webhooks in the gateway', () => {
  it("delivers the account's transitions in order; refused keepalives are dead-lettered on the stream and counted in /metrics", async () => {
    await until('a delivered transition to open', () =>
      r.unique.some((x) => x.type === 'transition' && (x.body.data as { to: string }).to === 'open'),
    );
    const seqs = r.seqsOf(s.account);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(r.orderViolations).toEqual([]);
    expect(r.badSignatures).toBe(0);
    const nc = await connectTo(s.nats.url);
    try {
      const dead = await until(
        'a dead letter on the stream',
        async () => (await dumpStream(nc)).events.find((e) => e.event.type === 'webhook.dead_lettered'),
        20_000,
      );
      expect(dead.event).toMatchObject({
        account: s.account,
        endpoint: 'crm',
        eventType: 'keepalive',
        attempts: 1,
        status: 422,
      });
    } finally {
      await nc.close();
    }
    const metrics = parsePrometheusText((await get(`${s.url}/metrics`)).text);
    expect(sum(metrics, 'wa_webhook_dead_lettered_total', { endpoint: 'crm' })).toBeGreaterThanOrEqual(1);
    expect(sum(metrics, 'wa_webhook_delivered_total', { endpoint: 'crm' })).toBeGreaterThanOrEqual(1);
    expect(sum(metrics, 'wa_webhook_failed_attempts_total', { endpoint: 'crm' })).toBeGreaterThanOrEqual(1);
    expect(metrics.has('wa_webhook_consumer_lag')).toBe(true);
    // The inspector's first message shows the endpoint: its origin only, no secret.
    const hello = await firstSseEvent(`${s.url}/inspect/events`);
    expect(hello).not.toContain(key);
    const { webhooks } = JSON.parse(hello) as { webhooks: Record<string, unknown>[] };
    expect(webhooks).toEqual([
      expect.objectContaining({ id: 'crm', origin: new URL(r.url).origin, source: 'config', lastFailure: 'http 422' }),
    ]);
    expect(webhooks[0]?.deadLettered).toBeGreaterThanOrEqual(1);
    expect(webhooks[0]?.delivered).toBeGreaterThanOrEqual(1);
  });
});
