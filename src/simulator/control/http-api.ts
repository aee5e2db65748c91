// The control API: JSON over HTTP on loopback. Replies are `{ok:true,...}` or
// `{ok:false,error:{code,message}}` with a 4xx for caller mistakes; never a stack trace.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import { SimulatorError, httpStatusOf, isSimulatorError } from '../errors.js';
import { toBufferJson, type SimulatorControls } from '../simulator.js';
import {
  actionSchema,
  clearFaultsSchema,
  inboundSchema,
  ledgerQuerySchema,
  pairingCodeSchema,
  provisionSchema,
  qrScanSchema,
  setFaultsSchema,
  uploadsQuerySchema,
} from './schemas.js';

/** Bodies are JSON documents; the largest legitimate one is POST /inbound with 48 MiB of
 * base64 media (64 MiB of text). Anything bigger is a mistake or an attack. */
const MAX_BODY_BYTES = 66 * 1024 * 1024;

type Handler = (body: unknown, query: URLSearchParams) => Promise<unknown> | unknown;

export interface MediaInfo {
  url: string;
  caPem: string;
}

export interface HttpEndpoint {
  url: string;
  close(): Promise<void>;
}

function parse<T>(schema: ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'body';
  throw new SimulatorError('bad_request', `${where}: ${issue?.message ?? 'invalid'}`);
}

function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

export function routes(sim: SimulatorControls, rootPublicKey: string, media: MediaInfo): Map<string, Handler> {
  const r = new Map<string, Handler>();
  r.set('GET /healthz', () => ({}));
  r.set('GET /root-key', () => ({ rootPublicKey }));
  // The media host and the certificate a client must trust to upload/download there.
  r.set('GET /media', () => ({ url: media.url, caPem: media.caPem }));
  r.set('GET /media/uploads', (_body, query) => {
    const { account } = parse(uploadsQuerySchema, Object.fromEntries(query));
    return { uploads: sim.mediaUploads(account) };
  });
  r.set('GET /sessions', () => ({ sessions: sim.sessions() }));
  r.set('GET /accounts', () => ({ accounts: sim.accounts() }));
  r.set('POST /accounts', (body) => sim.provisionAccount(stripUndefined(parse(provisionSchema, body ?? {}))));
  r.set('GET /faults', () => ({ faults: sim.faults() }));
  r.set('PUT /faults', (body) => {
    const { account, ...conditions } = parse(setFaultsSchema, body);
    sim.setFaults(stripUndefined(conditions), account);
    return { faults: sim.faults() };
  });
  r.set('DELETE /faults', (body, query) => {
    const input = parse(clearFaultsSchema, body ?? (query.get('account') ? { account: query.get('account') } : {}));
    sim.clearFaults(input.account, input.keys);
    return { faults: sim.faults() };
  });
  r.set('POST /actions', (body) => {
    const { account, ...action } = parse(actionSchema, body);
    return { connections: sim.inject(action, account) };
  });
  r.set('POST /inbound', (body) => sim.pushInbound(stripUndefined(parse(inboundSchema, body))));
  r.set('GET /ledger', (_body, query) => {
    const q = stripUndefined(parse(ledgerQuerySchema, Object.fromEntries(query)));
    return { entries: sim.ledger(q) };
  });
  r.set('POST /pairing/qr', (body) => {
    const { qr, phone } = parse(qrScanSchema, body);
    return sim.scanQr(qr, phone);
  });
  r.set('POST /pairing/code', async (body) => {
    const { phone, code } = parse(pairingCodeSchema, body);
    return sim.enterPairingCode(phone, code);
  });
  r.set('GET /stats', () => {
    // With --expose-gc a collection first makes heap numbers comparable between calls.
    (globalThis as { gc?: () => void }).gc?.();
    return {
      pid: process.pid,
      memory: process.memoryUsage(),
      sessions: sim.sessions().length,
      accounts: sim.accounts().length,
    };
  });
  r.set('POST /reset', () => {
    sim.reset();
    return {};
  });
  return r;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new SimulatorError('bad_request', 'body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new SimulatorError('bad_request', 'body is not valid JSON');
  }
}

function reply(res: ServerResponse, status: number, body: object): void {
  const text = toBufferJson(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function listenHttp(
  sim: SimulatorControls,
  rootPublicKey: string,
  media: MediaInfo,
  host: string,
  port: number,
  logger: Logger,
): Promise<HttpEndpoint> {
  const table = routes(sim, rootPublicKey, media);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const handler = table.get(`${req.method ?? 'GET'} ${url.pathname}`);
    void (async () => {
      try {
        if (!handler) throw new SimulatorError('not_found', `no route ${req.method} ${url.pathname}`);
        const out = await handler(await readBody(req), url.searchParams);
        reply(res, 200, { ok: true, ...(out as object) });
      } catch (err) {
        if (isSimulatorError(err)) {
          reply(res, httpStatusOf(err.code), { ok: false, error: { code: err.code, message: err.message } });
          return;
        }
        logger.error(
          { err: err instanceof Error ? err.message : String(err), route: url.pathname },
          'control API handler failed',
        );
        reply(res, 500, { ok: false, error: { code: 'internal', message: 'internal error' } });
      }
    })();
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
