// The media host Baileys uploads to and downloads from (it always speaks https). Upload:
// `POST /mms/<type>/<encSha256 base64url>?auth=<media_conn auth>&token=<same>` with the
// encrypted blob as the body (Utils/messages-media.js getWAUploadToServer); the reply is
// `{url, direct_path}`, which Baileys puts into the message. Download: `GET <directPath>`
// (Baileys builds `https://<host of the message url><directPath>`), with optional
// `Range: bytes=a-b`. The certificate is the simulator's own (tls-cert.ts).
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { MAX_MEDIA_BYTES, UPLOAD_PATH_TYPES, type MediaStore } from './store.js';
import { sha256 } from './crypto.js';
import type { SimulatorTls } from './tls-cert.js';

export interface MediaEndpoint {
  /** `https://host:port`, the base of every media URL. */
  url: string;
  /** `host:port`: what `media_conn` announces as the upload host. */
  hostname: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: Buffer | object, headers: Record<string, string> = {}): void {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  const type = Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json';
  res.writeHead(status, { 'content-type': type, 'content-length': data.length, ...headers });
  res.end(data);
}

async function readBlob(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_MEDIA_BYTES) throw new HttpError(413, 'upload too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** What the media host asks of the rest of the simulator. */
export interface MediaHooks {
  /** HTTP status to refuse an account's uploads with (the `rejectUploads` fault), if any. */
  uploadFault(account: string): number | undefined;
}

function upload(
  store: MediaStore,
  hooks: MediaHooks,
  base: string,
  req: { pathType: string; token: string; body: Buffer; auth: string | null },
) {
  const { pathType, token, body } = req;
  if (!(UPLOAD_PATH_TYPES as readonly string[]).includes(pathType))
    throw new HttpError(404, `no media type ${pathType}`);
  const account = store.accountOf(req.auth);
  if (!account) throw new HttpError(401, 'bad media auth');
  const fault = hooks.uploadFault(account);
  if (fault !== undefined) throw new HttpError(fault, 'upload refused (fault)');
  const encSha256 = sha256(body);
  if (encSha256.toString('base64url') !== token) throw new HttpError(400, 'body does not match its sha256 token');
  const blob = store.put(pathType, body);
  store.recordUpload({
    account,
    pathType,
    directPath: blob.directPath,
    encSha256: encSha256.toString('hex'),
    size: body.length,
    at: blob.at,
  });
  return { url: `${base}${blob.directPath}&mms3=true`, direct_path: blob.directPath, handle: null };
}

function download(store: MediaStore, url: URL, req: IncomingMessage, res: ServerResponse): void {
  const blob = store.get(url.pathname);
  if (!blob) throw new HttpError(404, 'no such media');
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (!range) {
    send(res, 200, blob.bytes);
    return;
  }
  const start = Number(range[1]);
  const end = range[2] ? Math.min(Number(range[2]), blob.bytes.length - 1) : blob.bytes.length - 1;
  if (start > end) throw new HttpError(416, 'range not satisfiable');
  send(res, 206, blob.bytes.subarray(start, end + 1), {
    'content-range': `bytes ${start}-${end}/${blob.bytes.length}`,
  });
}

export async function listenMedia(
  store: MediaStore,
  tls: SimulatorTls,
  hooks: MediaHooks,
  host: string,
  port: number,
  logger: Logger,
): Promise<MediaEndpoint> {
  let base = '';
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://simulator.invalid');
    void (async () => {
      try {
        const parts = url.pathname.split('/');
        if (req.method === 'POST' && parts[1] === 'mms' && parts.length === 4) {
          const body = await readBlob(req);
          const auth = url.searchParams.get('auth');
          const out = upload(store, hooks, base, { pathType: parts[2]!, token: parts[3]!, body, auth });
          logger.info({ pathType: parts[2], bytes: body.length, directPath: out.direct_path }, 'media uploaded');
          send(res, 200, out);
        } else if (req.method === 'GET' || req.method === 'HEAD') {
          download(store, url, req, res);
        } else {
          throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
        }
      } catch (err) {
        const status = err instanceof HttpError ? err.status : 500;
        const message = err instanceof Error ? err.message : String(err);
        logger.warn({ status, reason: message, path: url.pathname }, 'media request refused');
        if (!res.headersSent) send(res, status, { error: { code: status, message } });
        else res.destroy();
      }
    })();
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  const advertised = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const hostname = `${advertised.includes(':') ? `[${advertised}]` : advertised}:${actual}`;
  base = `https://${hostname}`;
  return {
    url: base,
    hostname,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
