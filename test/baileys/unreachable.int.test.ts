// The Baileys adapter tells "never reached the server" from a server's disconnect:
// Baileys reports both as 408 (or 500), the adapter adds the network error code.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { openConnection, type ConnectionEvents } from '../../src/baileys/connection.js';
import { Waiters } from '../support/waiters.js';
import { memoryAuth } from '../support/credentials.js';

const CLOSE_DEADLINE_MS = 10_000;
const servers: (Server | HttpServer)[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

function listen<S extends Server | HttpServer>(server: S): Promise<number> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

/** Opens a connection to `url` and resolves with what its close said. */
async function closeOf(url: string): Promise<{ statusCode: number | undefined; unreachable: string | undefined }> {
  const waiters = new Waiters();
  let closed: { statusCode: number | undefined; unreachable: string | undefined } | undefined;
  const mem = memoryAuth();
  const noop = () => undefined;
  const on: ConnectionEvents = {
    opened: noop,
    qr: noop,
    frame: noop,
    serverAck: noop,
    receipt: noop,
    inbound: noop,
    groupReceipt: noop,
    groupParticipants: noop,
    undecryptable: noop,
    credsChanged: noop,
    closed: (statusCode, _message, unreachable) => {
      closed = { statusCode, unreachable };
      waiters.poke();
    },
  };
  const conn = openConnection(
    {
      waWebSocketUrl: url,
      auth: { creds: mem.creds, keys: mem.keys },
      logger: pino({ level: 'silent' }),
      connectTimeoutMs: CLOSE_DEADLINE_MS,
      getMessage: () => undefined,
    },
    on,
  );
  try {
    return await waiters.until(`the close of ${url}`, () => closed, CLOSE_DEADLINE_MS);
  } finally {
    conn.end();
  }
}

describe('a WebSocket that never reached the server', () => {
  it('connection refused: unreachable ECONNREFUSED (Baileys says 408)', async () => {
    const s = createServer();
    const port = await listen(s);
    s.close();
    const c = await closeOf(`ws://127.0.0.1:${port}/ws/chat`);
    expect(c).toEqual({ statusCode: 408, unreachable: 'ECONNREFUSED' });
  });

  it('TLS that fails (a plain HTTP server behind wss://): unreachable EPROTO', async () => {
    const port = await listen(createHttpServer((_, res) => res.end('not tls')));
    const c = await closeOf(`wss://127.0.0.1:${port}/ws/chat`);
    expect(c.unreachable).toBe('EPROTO');
  });

  it('cut during the WebSocket upgrade (a proxy or firewall): unreachable ECONNRESET', async () => {
    const port = await listen(
      createHttpServer((_, res) => res.end()).on('upgrade', (_req, socket) => socket.destroy()),
    );
    const c = await closeOf(`ws://127.0.0.1:${port}/ws/chat`);
    expect(c.unreachable).toBe('ECONNRESET');
  });

  it('a WebSocket that opened and then closed is a disconnect, not unreachable', async () => {
    const http = createHttpServer();
    const wss = new WebSocketServer({ server: http });
    wss.on('connection', (ws) => ws.close());
    const port = await listen(http);
    const c = await closeOf(`ws://127.0.0.1:${port}/ws/chat`);
    expect(c.unreachable).toBeUndefined();
    wss.close();
  });
});
