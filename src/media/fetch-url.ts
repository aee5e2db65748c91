/**
 * Media named by an http(s) URL, fetched once when the send is accepted (never on
 * replay: the bytes go into `WA_MEDIA` first). Bounded in time and size so a slow or
 * huge answer costs a typed error, not memory: `timeout`, `too_large`, or
 * `bad_request` for anything else (refused, DNS, an HTTP error status).
 */
import { WaError } from '../contract/index.js';

export type FetchLimits = {
  /** Whole fetch, headers to last byte. */
  timeoutMs: number;
  maxBytes: number;
};

export type Fetched = { bytes: Uint8Array; mimetype?: string };

export async function fetchMedia(url: string, limits: FetchLimits): Promise<Fetched> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  const timedOut = () =>
    new WaError('timeout', `media.url did not answer within ${limits.timeoutMs} ms; nothing was recorded`);
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow' });
  } catch (cause) {
    if (signal.aborted) throw timedOut();
    const code = (cause as { cause?: { code?: string } }).cause?.code;
    throw new WaError('bad_request', `media.url could not be fetched${code ? ` (${code})` : ''}`, { cause });
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new WaError('bad_request', `media.url answered HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge(declared, limits.maxBytes);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > limits.maxBytes) {
        await res.body?.cancel().catch(() => undefined);
        throw tooLarge(size, limits.maxBytes, true);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof WaError) throw err;
    if (signal.aborted) throw timedOut();
    throw new WaError('bad_request', 'media.url broke off while reading', { cause: err });
  }
  const bytes = Buffer.concat(chunks);
  const type = res.headers.get('content-type') ?? undefined;
  return type ? { bytes, mimetype: type } : { bytes };
}

function tooLarge(size: number, max: number, atLeast = false): WaError {
  return new WaError('too_large', `media.url is ${atLeast ? 'more than ' : ''}${size} bytes; the limit is ${max}`);
}
