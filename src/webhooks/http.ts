/**
 * One POST and what its answer means for the delivery: done, retry (with the
 * receiver's `Retry-After` when it gave one) or give up. node:http(s) with a keep-alive
 * agent per endpoint. Unless private addresses are allowed, every connection's DNS
 * answer is checked again (address.ts), so a host that resolved to a public address
 * when the endpoint was added cannot be re-pointed at this machine or a metadata
 * service later. The response body is discarded, and at most MAX_DRAIN_BYTES of it are
 * read (to keep the connection reusable); what a receiver says is never logged.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isDisallowedAddress } from './address.js';
import type { SignedRequest } from './signing.js';

/** Past this much response body the connection is dropped rather than drained. */
export const MAX_DRAIN_BYTES = 64 * 1024;

export type Attempt =
  | { kind: 'delivered'; status: number }
  /** `retryAfterMs` only when the receiver asked for it (408/429/503 with Retry-After). */
  | { kind: 'retry'; status?: number; reason: string; retryAfterMs?: number }
  | { kind: 'refused'; status: number; reason: string };

/** A DNS lookup that fails when any address it finds is loopback, link-local or unspecified. */
const guardedLookup = ((
  hostname: string,
  options: object,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const bad = addresses.find((a) => isDisallowedAddress(a.address));
    if (bad)
      return callback(
        Object.assign(new Error(`${hostname} resolves to ${bad.address}, a disallowed address`), {
          code: 'EADDRNOTALLOWED',
        }),
        [],
      );
    if ((options as { all?: boolean }).all) return callback(null, addresses);
    const first = addresses[0] as LookupAddress;
    callback(null, first.address, first.family);
  });
}) as LookupFunction;

export class Sender {
  readonly #url: URL;
  readonly #https: boolean;
  readonly #agent: HttpAgent;
  readonly #allowPrivate: boolean;

  constructor(url: string, allowPrivate: boolean, sockets: number) {
    this.#url = new URL(url);
    this.#https = this.#url.protocol === 'https:';
    this.#agent = this.#https
      ? new HttpsAgent({ keepAlive: true, maxSockets: sockets })
      : new HttpAgent({ keepAlive: true, maxSockets: sockets });
    this.#allowPrivate = allowPrivate;
  }

  post(req: SignedRequest, timeoutMs: number, signal?: AbortSignal, now: () => number = Date.now): Promise<Attempt> {
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      const settle = (a: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(a);
      };
      const body = Buffer.from(req.body, 'utf8');
      const request = (this.#https ? httpsRequest : httpRequest)(this.#url, {
        method: 'POST',
        headers: { ...req.headers, 'content-length': String(body.byteLength) },
        agent: this.#agent,
        ...(this.#allowPrivate ? {} : { lookup: guardedLookup }),
        ...(signal ? { signal } : {}),
      });
      const timer = setTimeout(() => {
        settle({ kind: 'retry', reason: 'timeout' });
        request.destroy();
      }, timeoutMs);
      request.on('response', (res: IncomingMessage) => {
        drain(res);
        settle(classify(res.statusCode ?? 0, res.headers['retry-after'], now()));
      });
      request.on('error', (err: NodeJS.ErrnoException) =>
        settle({
          kind: 'retry',
          reason: err.name === 'AbortError' ? 'aborted' : (err.code ?? 'network error').slice(0, 64),
        }),
      );
      request.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

function drain(res: IncomingMessage): void {
  let read = 0;
  res.on('data', (chunk: Buffer) => {
    read += chunk.byteLength;
    if (read > MAX_DRAIN_BYTES) res.destroy();
  });
  res.on('error', () => undefined);
}

function classify(status: number, retryAfter: string | string[] | undefined, nowMs: number): Attempt {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  const retryAfterMs = parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : null, nowMs);
  const reason = `http ${status}`;
  // A 4xx says the request itself is wrong: sending it again will not help, except
  // for a request timeout and rate limiting, which say "later".
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: 'refused', status, reason };
  return { kind: 'retry', status, reason, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}

/** `Retry-After` as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
