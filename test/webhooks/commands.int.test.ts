// wa.cmd.webhooks.<verb> through real NATS requests: a NATS layer (in-memory runtime
// behind the port) with the webhook service wired as the composition root wires it.
// Typed errors for bad input; endpoints added at run time survive a restart; a dead
// letter lands on the stream and replaying it once the receiver is fixed delivers it.
import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { accountsCmdSubject, webhooksCmdSubject } from '../../src/contract/index.js';
import { connectWaClient } from '../../src/client/index.js';
import { type NatsLayer, startNatsLayer } from '../../src/nats/layer.js';
import { WebhookService } from '../../src/webhooks/service.js';
import { FakeAccounts } from '../nats/fake-accounts.js';
import { silent } from '../support/loggers.js';
import { dumpStream, request } from '../support/nats-client.js';
import { connectTo, type NatsServer, startNatsServer } from '../support/nats-server.js';
import { until } from '../support/waiters.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';

let server: NatsServer;
let nc: NatsConnection;
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** A layer with `accounts` adopted and the webhook service behind `wa.cmd.webhooks.*`. */
async function gateway(accounts: string[], allowPrivateAddresses: boolean) {
  const fake = new FakeAccounts();
  let webhooks: WebhookService | undefined;
  const layer: NatsLayer = await startNatsLayer({ nc, accounts: fake, logger: silent, webhooks: () => webhooks });
  fake.sink = layer.sink;
  for (const a of accounts) await layer.addAccount(a, { connect: false });
  const start = async () => {
    webhooks = await WebhookService.start({
      nc,
      logger: silent,
      endpoints: [],
      allowPrivateAddresses,
      ackWaitMs: 2_000,
      deadLetter: (f) => layer.sink(f),
    });
    return webhooks;
  };
  await start();
  const g = {
    layer,
    get webhooks() {
      return webhooks as WebhookService;
    },
    /** The restart of the webhook side: closed, and started again from NATS alone. */
    restart: async () => {
      await webhooks?.close();
      await start();
    },
    message: (account: string, n: number) => {
      for (let i = 0; i < n; i++)
        layer.sink({
          account,
          type: 'message.in',
          waMessageId: `W${i}`,
          from: 'x@s.whatsapp.net',
          chat: 'x@s.whatsapp.net',
          text: 'hi',
          timestamp: new Date().toISOString(),
        });
    },
  };
  cleanup.push(async () => {
    await webhooks?.close();
    await layer.close();
  });
  return g;
}

async function receiver(key: string): Promise<Receiver> {
  const r = await startReceiver(key);
  cleanup.push(() => r.close());
  return r;
}

const add = (body: unknown) => request(nc, webhooksCmdSubject('add'), body);
const fast = { timeoutMs: 500, retry: { attempts: 3, baseMs: 5, capMs: 20 } };

describe('webhook commands: bad input gets typed errors', () => {
  it('bad URL, missing secret, a disallowed address, an unknown endpoint, a bad replay range', async () => {
    await gateway([], false);
    const key = secret();
    const code = async (subject: string, body: unknown) =>
      ((await request(nc, subject, body)) as { error?: { code: string } }).error?.code;
    expect(await code(webhooksCmdSubject('add'), { id: 'a', url: 'not a url', secret: key })).toBe('bad_request');
    expect(await code(webhooksCmdSubject('add'), { id: 'a', url: 'ftp://example.com/x', secret: key })).toBe(
      'bad_request',
    );
    expect(await code(webhooksCmdSubject('add'), { id: 'a', url: 'https://example.com/hook' })).toBe('bad_request');
    expect(await code(webhooksCmdSubject('add'), { id: 'a', url: 'https://example.com/hook', secret: 'short' })).toBe(
      'bad_request',
    );
    expect(await code(webhooksCmdSubject('add'), { id: 'Bad.Id', url: 'https://example.com/hook', secret: key })).toBe(
      'bad_request',
    );
    for (const url of [
      'http://127.0.0.1:9/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]:9/',
      'http://localhost:9/',
      'http://[::ffff:127.0.0.1]/',
    ]) {
      const reply = await add({ id: 'meta', url, secret: key });
      expect(reply, url).toMatchObject({ ok: false, error: { code: 'bad_request' } });
      expect(JSON.stringify(reply)).not.toContain(key);
    }
    expect(await code(webhooksCmdSubject('remove'), { id: 'nope' })).toBe('bad_request');
    expect(await code(webhooksCmdSubject('replay'), { id: 'nope', fromSeq: 1 })).toBe('bad_request');
    expect(await code(webhooksCmdSubject('replay'), { id: 'nope', fromSeq: 1, fromTime: '2026-01-01T00:00:00Z' })).toBe(
      'bad_request',
    );
    expect(await code(webhooksCmdSubject('replay'), { id: 'nope' })).toBe('bad_request');
    expect(await code('wa.cmd.webhooks.purge', {})).toBe('bad_request');
    // `webhooks` is the API's subject token, so no account may be called that.
    expect(await code(accountsCmdSubject('add'), { account: 'webhooks' })).toBe('bad_request');
    expect(await request(nc, webhooksCmdSubject('list'))).toEqual({ ok: true, endpoints: [] });
  });
});

describe('webhook commands', () => {
  it('add, list (no secret), deliver, survive a restart from the KV bucket, remove', async () => {
    const g = await gateway(['wk1'], true);
    const key = secret();
    const r = await receiver(key);
    expect(await add({ id: 'crm', url: r.url, secret: key, accounts: ['wk1'], ...fast })).toEqual({
      ok: true,
      id: 'crm',
    });
    expect(await add({ id: 'crm', url: r.url, secret: key })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    const list = await request(nc, webhooksCmdSubject('list'));
    expect(list).toEqual({
      ok: true,
      endpoints: [{ id: 'crm', url: r.url, accounts: ['wk1'], source: 'runtime', held: 0 }],
    });
    expect(JSON.stringify(list)).not.toContain(key);
    g.message('wk1', 3);
    await until('3 delivered', () => r.unique.length === 3);
    await g.restart();
    expect(g.webhooks.ids()).toEqual(['crm']);
    g.message('wk1', 2);
    await until('5 delivered', () => r.unique.length === 5);
    expect(r.seqsOf('wk1')).toEqual([1, 2, 3, 4, 5]);
    expect(await request(nc, webhooksCmdSubject('remove'), { id: 'crm' })).toEqual({ ok: true, id: 'crm' });
    expect(await request(nc, webhooksCmdSubject('list'))).toEqual({ ok: true, endpoints: [] });
    await g.restart();
    expect(g.webhooks.ids()).toEqual([]);
  });

  it('a refused event is dead-lettered on the stream; replay from its stream seq delivers it once the receiver is fixed', async () => {
    const g = await gateway(['wk2'], true);
    const key = secret();
    const r = await receiver(key);
    let broken = true;
    r.behave = (x) =>
      broken && x.type === 'message.in' && x.body.data && (x.body.data as { waMessageId: string }).waMessageId === 'W1'
        ? { kind: 'status', status: 400 }
        : { kind: 'ok' };
    expect(await add({ id: 'dl', url: r.url, secret: key, types: ['message.in'], ...fast })).toMatchObject({
      ok: true,
    });
    g.message('wk2', 3);
    await until('the two others', () => r.unique.length === 2);
    const dead = await until('the dead letter on the stream', async () =>
      (await dumpStream(nc)).events.find((e) => e.event.type === 'webhook.dead_lettered' && e.event.account === 'wk2'),
    );
    expect(dead.event).toMatchObject({
      type: 'webhook.dead_lettered',
      endpoint: 'dl',
      eventType: 'message.in',
      attempts: 1,
      status: 400,
      reason: 'http 400',
    });
    broken = false;
    const streamSeq = (dead.event as { streamSeq: number }).streamSeq;
    const reply = await request(nc, webhooksCmdSubject('replay'), { id: 'dl', fromSeq: streamSeq });
    expect(reply).toMatchObject({ ok: true, id: 'dl', fromSeq: streamSeq });
    // The later events come again with the replay: the same webhook-ids, deduplicated.
    await until('the replayed one and the later ones again', () => r.unique.length === 3 && r.duplicates >= 1);
    expect(r.seqsOf('wk2')).toEqual([1, 3, 2]);
    // From a time (epoch ms or ISO): everything since then again, same ids.
    const before = r.duplicates;
    expect(await request(nc, webhooksCmdSubject('replay'), { id: 'dl', fromTime: Date.now() - 60_000 })).toMatchObject({
      ok: true,
      id: 'dl',
    });
    await until('all three again', () => r.duplicates >= before + 3);
    expect(r.seqsOf('wk2')).toEqual([1, 3, 2]);
  });

  it('through the typed client: add, list, replay, remove; errors as WaError', async () => {
    const g = await gateway(['wk3'], true);
    const key = secret();
    const r = await receiver(key);
    const wa = await connectWaClient({ nc });
    expect(await wa.addWebhook({ id: 'typed', url: r.url, secret: key, accounts: ['wk3'], ...fast })).toEqual({
      ok: true,
      id: 'typed',
    });
    expect(await wa.webhooks()).toContainEqual(expect.objectContaining({ id: 'typed', source: 'runtime' }));
    g.message('wk3', 2);
    await until('2 delivered', () => r.unique.length === 2);
    expect(await wa.replayWebhook('typed', { time: new Date(Date.now() - 60_000) })).toMatchObject({
      ok: true,
      id: 'typed',
    });
    await until('replayed', () => r.duplicates >= 2);
    await expect(wa.removeWebhook('nope')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(wa.addWebhook({ id: 'typed', url: r.url, secret: key })).rejects.toMatchObject({ code: 'conflict' });
    expect(await wa.removeWebhook('typed')).toEqual({ ok: true, id: 'typed' });
    await wa.close();
  });
});
