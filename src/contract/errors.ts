/**
 * The one error type of wa-connd. Every failure a client can see is a `WaError`
 * with one of a closed set of codes; the wire form is `{ ok: false, error: { code,
 * message } }` and never carries a stack (design brief, "Errors are replies").
 */

export const WA_ERROR_CODES = [
  'bad_request',
  'unknown_account',
  'too_large',
  'logged_out',
  'not_paired',
  /** A send id reused for a different request (recipient or text): an id names one request. */
  'conflict',
  'timeout',
  'unavailable',
  'internal',
] as const;

export type WaErrorCode = (typeof WA_ERROR_CODES)[number];

export type WireError = { code: WaErrorCode; message: string };
export type ErrorReply = { ok: false; error: WireError };

export class WaError extends Error {
  override readonly name = 'WaError';
  readonly code: WaErrorCode;

  constructor(code: WaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
}

export function isWaErrorCode(value: unknown): value is WaErrorCode {
  return typeof value === 'string' && (WA_ERROR_CODES as readonly string[]).includes(value);
}

export function isWaError(err: unknown): err is WaError {
  return err instanceof WaError;
}

/** Checked by code, never by message (STYLE: "Errors carry a code and are checked by code"). */
export function hasErrorCode(err: unknown, code: WaErrorCode): err is WaError {
  return isWaError(err) && err.code === code;
}

/**
 * Anything thrown becomes a WaError; an unknown error is `internal` and keeps the
 * original as `cause` for the log, while its message stays out of the reply so a
 * library's internals (paths, keys) never reach a client.
 */
export function toWaError(err: unknown): WaError {
  if (isWaError(err)) return err;
  return new WaError('internal', 'internal error', { cause: err });
}

export function toReply(err: unknown): ErrorReply {
  return { ok: false, error: toWaError(err).toWire() };
}
