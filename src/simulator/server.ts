// The WebSocket endpoint clients reach through Baileys' `waWebSocketUrl`. Each socket is a
// Connection; a throw anywhere in one is contained there (see Connection.fail).
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { MAX_FRAME_BYTES } from './protocol/frame-reader.js';
import { Connection } from './session/connection.js';
import type { SimulatorContext } from './session/context.js';

/** ws' maxPayload: a frame plus its length prefix and a generous routing intro. */
const MAX_WS_MESSAGE_BYTES = MAX_FRAME_BYTES + 64 * 1024;

export interface WsEndpoint {
  url: string;
  close(): Promise<void>;
}

export async function listenWs(ctx: SimulatorContext, host: string, port: number): Promise<WsEndpoint> {
  // autoPong off: a silenced (half-open) server must not answer WebSocket pings either.
  const wss = new WebSocketServer({
    host,
    port,
    autoPong: false,
    perMessageDeflate: false,
    maxPayload: MAX_WS_MESSAGE_BYTES,
  });
  wss.on('connection', (ws, req) => {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const conn = new Connection(ws, remote, ctx);
    ctx.sessions.add(conn);
    conn.log.debug({ remote }, 'socket accepted');
  });
  wss.on('error', (err) => ctx.logger.error({ err: err.message }, 'websocket server error'));
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const { port: actual } = wss.address() as AddressInfo;
  return {
    url: `ws://${host}:${actual}/ws/chat`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}
