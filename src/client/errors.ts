/**
 * Failures of the transport rather than of the gateway. They are `WaError`s like every
 * other failure a client sees (so one `catch` and one `code` check cover all), with a
 * `transport` reason so a caller — the CLI's exit codes — can tell "NATS is down" from
 * "no gateway listens" from "the gateway said no".
 */
import { RequestError, TimeoutError } from '@nats-io/transport-node';
import { WaError, type WaErrorCode } from '../contract/index.js';

export type TransportFailure =
  /** No NATS server could be reached at all. */
  | 'nats_unreachable'
  /** NATS is up but nothing subscribes to the command subject: no gateway is running. */
  | 'no_gateway'
  /** The request went out and no reply came back in time. */
  | 'no_reply';

export class WaTransportError extends WaError {
  readonly transport: TransportFailure;

  constructor(transport: TransportFailure, code: WaErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.transport = transport;
  }
}

export function isTransportError(err: unknown, kind?: TransportFailure): err is WaTransportError {
  return err instanceof WaTransportError && (kind === undefined || err.transport === kind);
}

/** What a failed `nc.request` means to a caller of the command API. */
export function requestFailure(subject: string, timeoutMs: number, cause: unknown): WaError {
  if (cause instanceof RequestError && cause.isNoResponders()) {
    return new WaTransportError(
      'no_gateway',
      'unavailable',
      `no wa-connd gateway answers on ${subject} (is one running against this NATS?)`,
      { cause },
    );
  }
  if (cause instanceof TimeoutError || (cause instanceof RequestError && cause.cause instanceof TimeoutError)) {
    return new WaTransportError('no_reply', 'timeout', `no reply on ${subject} within ${timeoutMs} ms`, { cause });
  }
  return new WaTransportError(
    'nats_unreachable',
    'unavailable',
    `request on ${subject} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
    { cause },
  );
}
