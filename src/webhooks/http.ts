/**
 * One POST and what its answer means for the delivery: done, retry (with the
 * receiver's `Retry-After` when it gave one) or give up. The response body is never
 * read (only cancelled): a receiver cannot make the gateway buffer anything, and what
 * it says is not logged.
 */
import type { SignedRequest } from './signing.js';

export type Attempt =
  | { kind: 'delivered'; status: number }
  /** `retryAfterMs` only when the receiver asked for it (408/429/503 with Retry-After). */
  | { kind: 'retry'; status?: number; reason: string; retryAfterMs?: number }
  | { kind: 'refused'; status: number; reason: string };

export async function post(
  url: string,
  req: SignedRequest,
  timeoutMs: number,
  signal?: AbortSignal,
  now: () => number = Date.now,
): Promise<Attempt> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  } catch (err) {
    return { kind: 'retry', reason: networkReason(err) };
  }
  await res.body?.cancel().catch(() => undefined);
  const status = res.status;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now());
  const base = { status, reason: `http ${status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  // A 4xx says the request itself is wrong: sending it again will not help, except
  // for a request timeout and rate limiting, which say "later".
  if (status >= 400 && status < 500 && status !== 408 && status !== 429)
    return { kind: 'refused', status, reason: base.reason };
  return { kind: 'retry', ...base };
}

/** `Retry-After` as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function networkReason(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timeout';
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code.slice(0, 64);
  return 'network error';
}
