import { existsSync } from 'node:fs';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTo, type NatsServer, nextStatus, startNatsServer } from '../support/nats-server.js';

const STREAM = 'SUPPORT_TEST';
const enc = (s: string) => new TextEncoder().encode(s);

describe('when a suite starts its own nats-server', () => {
  let server: NatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true });
    nc = await connectTo(server.url);
  });

  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('listens on its own port, not the shared 4222', () => {
    expect(server.port).not.toBe(4222);
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    expect(existsSync(server.storeDir)).toBe(true);
  });

  it('reports its version, which the runtime gates features on', () => {
    expect(nc.info?.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(nc.info?.jetstream).toBe(true);
  });

  it('drops a JetStream publish repeated with the same Nats-Msg-Id', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: STREAM, subjects: ['support.>'] });
    const js = jetstream(nc);
    const first = await js.publish('support.a', enc('one'), { msgID: 'fact-1' });
    const again = await js.publish('support.a', enc('one'), { msgID: 'fact-1' });
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(again.seq).toBe(first.seq);
    expect((await jsm.streams.info(STREAM)).state.messages).toBe(1);
  });

  it('keeps the stream across a restart on the same port', async () => {
    const back = nextStatus(nc, 'reconnect');
    await server.restart();
    await back;
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(STREAM);
    expect(info.state.messages).toBe(1);
    expect(nc.isClosed()).toBe(false);
  });

  it('keeps the stream across a SIGKILL and a start', async () => {
    await server.kill();
    expect(server.running).toBe(false);
    const back = nextStatus(nc, 'reconnect');
    await server.restart();
    await back;
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info(STREAM)).state.messages).toBe(1);
  });
});

describe('when a suite stops its server', () => {
  it('exits and removes the store dir', async () => {
    const server = await startNatsServer({ jetstream: true });
    await server.stop();
    expect(server.running).toBe(false);
    expect(existsSync(server.storeDir)).toBe(false);
    await expect(connectTo(server.url, { maxReconnectAttempts: 0, reconnect: false, timeout: 500 })).rejects.toThrow();
  });
});
