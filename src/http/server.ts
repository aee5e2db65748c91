/**
 * The gateway's HTTP server (node:http; a handful of GET routes need no framework):
 * `/healthz`, `/readyz`, `/metrics`, `/inspect` (+ `/inspect/events`, `/inspect/state`),
 * `/pair/<account>` and `/favicon.ico` (204). Bound to 127.0.0.1 unless configured otherwise.
 *
 * With a token, everything but `/healthz` and `/favicon.ico` needs `Authorization:
 * Bearer <token>`. A browser cannot add that header to a page load or an EventSource,
 * so `?token=<token>` on any page is also accepted once: the answer sets an HttpOnly,
 * SameSite=Strict cookie and redirects to the same URL without the token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AccountState } from '../contract/index.js';
import type { HubMessage, InspectorHub } from '../inspect/hub.js';
import { inspectorPage } from '../inspect/page.js';
import { FAVICON_MAX_AGE_S } from './icon.js';
import { pairPage } from './pair-page.js';
import type { Readiness } from './readiness.js';

/** A comment line on idle event streams, so proxies and browsers keep them open. */
export const SSE_HEARTBEAT_MS = 15_000;
const COOKIE = 'wa_connd_token';
/** Pages load nothing from anywhere else: no CDN, by construction. */
const PAGE_CSP =
  "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'";

export interface HttpDeps {
  host: string;
  port: number;
  token?: string | undefined;
  logger: Logger;
  registry: Registry;
  hub: InspectorHub;
  readiness: () => Readiness;
  /** The account's state as the runtime has it, or undefined when it does not run here. */
  stateOf(account: string): AccountState | undefined;
}

/** The HTTP server could not listen; the message says on what, why, and what to do. */
export class HttpListenError extends Error {
  override readonly name = 'HttpListenError';
  constructor(
    readonly address: string,
    /** The system error code: EADDRINUSE, EACCES, EADDRNOTAVAIL, … */
    readonly code: string,
    cause: unknown,
  ) {
    super(HttpListenError.explain(address, code), { cause });
  }

  private static explain(address: string, code: string): string {
    switch (code) {
      case 'EADDRINUSE':
        return `the HTTP port ${address} is already in use (EADDRINUSE): stop what listens there, or set http.port / WA_CONND_HTTP_PORT to a free port (0 picks one)`;
      case 'EACCES':
        return `not allowed to listen on ${address} (EACCES): ports below 1024 need privileges; set http.port / WA_CONND_HTTP_PORT to a port above 1023`;
      case 'EADDRNOTAVAIL':
        return `cannot listen on ${address} (EADDRNOTAVAIL): that address is not on this machine; check http.host / WA_CONND_HTTP_HOST`;
      default:
        return `cannot listen on ${address} (${code}): check http.host and http.port`;
    }
  }
}

export interface HttpServer {
  /** `http://host:port` (the port actually bound). */
  url: string;
  close(): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export async function startHttpServer(d: HttpDeps): Promise<HttpServer> {
  const log = d.logger.child({ component: 'http' });
  const expected = d.token ? digest(d.token) : null;
  const matches = (given: string | undefined) =>
    expected !== null && given !== undefined && timingSafeEqual(digest(given), expected);
  const streams = new Set<ServerResponse>();

  const authorised = (req: IncomingMessage, url: URL, res: ServerResponse): boolean => {
    if (!expected) return true;
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ') && matches(header.slice(7).trim())) return true;
    const cookie = (req.headers.cookie ?? '').split(/;\s*/).find((c) => c.startsWith(`${COOKIE}=`));
    if (cookie && matches(decodeURIComponent(cookie.slice(COOKIE.length + 1)))) return true;
    const query = url.searchParams.get('token');
    if (query !== null && matches(query)) {
      url.searchParams.delete('token');
      res.writeHead(303, {
        location: url.pathname + (url.search || ''),
        'set-cookie': `${COOKIE}=${encodeURIComponent(query)}; HttpOnly; SameSite=Strict; Path=/`,
        'cache-control': 'no-store',
      });
      res.end();
      return false;
    }
    res.writeHead(401, {
      'content-type': 'application/json',
      'www-authenticate': 'Bearer realm="wa-connd"',
      'cache-control': 'no-store',
    });
    res.end(
      JSON.stringify({
        ok: false,
        error: { code: 'bad_request', message: 'unauthorized: Authorization: Bearer <token> required' },
      }),
    );
    return false;
  };

  const send = (
    res: ServerResponse,
    status: number,
    type: string,
    body: string,
    extra: Record<string, string> = {},
  ) => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...extra,
    });
    res.end(body);
  };
  const json = (res: ServerResponse, status: number, body: unknown) =>
    send(res, status, 'application/json', JSON.stringify(body));
  const html = (res: ServerResponse, body: string) =>
    send(res, 200, 'text/html; charset=utf-8', body, {
      'content-security-policy': PAGE_CSP,
      'x-frame-options': 'DENY',
    });

  const stream = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const write = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    write('hello', d.hub.snapshot());
    const unwatch = d.hub.watch((m: HubMessage) => {
      if (m.kind === 'event') write('event', { event: m.event, status: m.status });
      else if (m.kind === 'status') write('status', m.status);
      else if (m.kind === 'webhooks') write('webhooks', m.endpoints);
      else write('nats', { connected: m.connected });
    });
    const beat = setInterval(() => res.write(': heartbeat\n\n'), SSE_HEARTBEAT_MS);
    beat.unref();
    streams.add(res);
    req.on('close', () => {
      clearInterval(beat);
      unwatch();
      streams.delete(res);
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return json(res, 405, { ok: false, error: { code: 'bad_request', message: 'GET only' } });
    if (path === '/healthz') return json(res, 200, { ok: true });
    // Public like /healthz: browsers ask without the token, and an icon tells nothing.
    if (path === '/favicon.ico') {
      res.writeHead(204, { 'cache-control': `public, max-age=${FAVICON_MAX_AGE_S}` });
      return void res.end();
    }
    if (!authorised(req, url, res)) return;
    if (path === '/readyz') {
      const r = d.readiness();
      return json(res, r.ready ? 200 : 503, r);
    }
    if (path === '/metrics') return send(res, 200, d.registry.contentType, await d.registry.metrics());
    if (path === '/inspect') return html(res, inspectorPage());
    if (path === '/inspect/events') return stream(req, res);
    if (path === '/inspect/state') return json(res, 200, d.hub.snapshot());
    const pair = /^\/pair\/([^/]+)$/.exec(path);
    if (pair) {
      const account = decodeURIComponent(pair[1]!);
      const state = d.stateOf(account);
      if (state === undefined)
        return json(res, 404, { ok: false, error: { code: 'unknown_account', message: `no account ${account}` } });
      return html(res, await pairPage(account, d.hub.status(account).state ?? state, d.hub.qr(account)));
    }
    return json(res, 404, { ok: false, error: { code: 'bad_request', message: `no route ${path}` } });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err, path: req.url?.split('?')[0] }, 'HTTP request failed');
      if (!res.headersSent) json(res, 500, { ok: false, error: { code: 'internal', message: 'internal error' } });
      else res.end();
    });
  });
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) =>
      reject(new HttpListenError(`${host}:${d.port}`, err.code ?? 'unknown', err));
    server.once('error', failed);
    server.listen(d.port, d.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host}:${port}`;
  log.info({ url, auth: expected ? 'bearer' : 'none' }, 'HTTP server listening');

  return {
    url,
    close: async () => {
      for (const s of streams) s.end();
      streams.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}
