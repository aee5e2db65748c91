/**
 * Baileys logs the routine ends of a socket at error level: "stream errored out" for
 * every 408 or 515 the server sends, "error in validating connection" when a login
 * times out or the socket closes under it. The account machine absorbs those (a
 * reconnect with backoff, logged as a transition), so an operator who alerts on
 * level >= 50 must not be paged for them. This wraps the logger handed to Baileys and
 * lowers exactly those lines; everything else Baileys calls an error stays an error.
 */
import { getErrorCodeFromStreamError, type BinaryNode, type SocketConfig } from '@whiskeysockets/baileys';
import type { Logger } from 'pino';
import { closePolicy } from '../../machines/index.js';

type BaileysLogger = SocketConfig['logger'];
type Level = 'info' | 'warn' | 'error';

const STREAM_ERRORED = 'stream errored out';

/**
 * Baileys' statuses for "the link went away under this operation": 408 timed out (no
 * answer before the deadline), 428 connection closed. An error carrying one is the
 * consequence of a disconnect the machine handles, not a fault of its own.
 */
const LINK_GONE = new Set([408, 428]);

function boomStatus(err: unknown): number | undefined {
  const status = (err as { output?: { statusCode?: unknown } } | null | undefined)?.output?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function isNode(x: unknown): x is BinaryNode {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as BinaryNode).tag === 'string' &&
    typeof (x as BinaryNode).attrs === 'object'
  );
}

/** The level an error-level line of Baileys deserves. */
export function baileysErrorLevel(obj: unknown, msg: string | undefined): Level {
  const fields = (typeof obj === 'object' && obj !== null ? obj : {}) as Record<string, unknown>;
  if (msg === STREAM_ERRORED && isNode(fields.fullErrorNode)) {
    // The server ended the stream; the close follows with this code. The disconnect
    // policy says whether that is routine (reconnect) or needs an operator (stop,
    // logged out: warn, and reported as a transition and a `logged_out` event).
    const { statusCode } = getErrorCodeFromStreamError(fields.fullErrorNode);
    const policy = closePolicy(statusCode);
    return policy.known && (policy.action === 'backoff' || policy.action === 'reconnectNow') ? 'info' : 'warn';
  }
  const err = fields.err ?? fields.error;
  // Queries pending when the socket closes are rejected with the WebSocket close code
  // itself (a number: "unexpected error in 'init queries'" with err 1000).
  if (typeof err === 'number') return 'info';
  const status = boomStatus(err);
  if (status !== undefined && LINK_GONE.has(status)) return 'info';
  return 'error';
}

/** The logger to hand Baileys: `log` itself, with Baileys' routine errors lowered. */
export function baileysLogger(log: Logger): BaileysLogger {
  return {
    get level() {
      return log.level;
    },
    child: (bindings) => baileysLogger(log.child(bindings)),
    trace: (obj, msg) => log.trace(obj, msg),
    debug: (obj, msg) => log.debug(obj, msg),
    info: (obj, msg) => log.info(obj, msg),
    warn: (obj, msg) => log.warn(obj, msg),
    error: (obj, msg) => log[baileysErrorLevel(obj, msg)](obj, msg),
  };
}
