/**
 * Everything the account machine reacts to. Commands are imperative (an operator or a
 * client asked); facts are past tense (the runtime saw it happen). Facts about a socket
 * carry its `connectionId`, timer facts the `token` of the timer that fired, so the
 * machine ignores anything from a socket or a timer it has already left behind.
 */

// ── commands ────────────────────────────────────────────────────────────────
export interface Connect {
  type: 'Connect';
}
/** Operator stop: settle in-flight sends, close, and stay stopped. */
export interface Disconnect {
  type: 'Disconnect';
}
/** Operator logout: unlink the device; credentials are cleared. */
export interface Logout {
  type: 'Logout';
}
/** Start a pairing: QR, or a pairing code when `phone` is given. */
export interface Pair {
  type: 'Pair';
  phone?: string;
}
/** Planned reconnect (e.g. ahead of a predicted drop): drain, then connect again. */
export interface Recycle {
  type: 'Recycle';
  reason?: string;
}
/** A send accepted by the gateway; the payload stays with the runtime, keyed by id. */
export interface Send {
  type: 'Send';
  id: string;
}
/** A held send's deadline passed: it must not go out late. */
export interface Expire {
  type: 'Expire';
  id: string;
}

// ── socket facts ────────────────────────────────────────────────────────────
/** Logged in: Baileys reported `connection: 'open'`. `at` is the runtime's clock. */
export interface SocketOpened {
  type: 'SocketOpened';
  connectionId: number;
  at: number;
}
export interface SocketClosed {
  type: 'SocketClosed';
  connectionId: number;
  statusCode?: number;
  /** The server was never reached (DNS, refused, TLS, proxy): the network error code, e.g. ENOTFOUND. */
  unreachable?: string;
  /** 402 temporary ban: how long until it ends (its `expire`), and WhatsApp's ban code. */
  retryAfterMs?: number;
  banCode?: number;
  at: number;
}
export interface QrReceived {
  type: 'QrReceived';
  connectionId: number;
}
export interface PairingCodeIssued {
  type: 'PairingCodeIssued';
  connectionId: number;
}
/** Any frame read from the server. */
export interface InboundReceived {
  type: 'InboundReceived';
  connectionId: number;
}
export interface ProbeAnswered {
  type: 'ProbeAnswered';
  probeId: number;
  rttMs: number;
}
/** The server acknowledged a dispatched send. */
export interface SendAcked {
  type: 'SendAcked';
  id: string;
}
/** The server refused a send for good (error ack): it is failed, never replayed. */
export interface SendRejected {
  type: 'SendRejected';
  id: string;
  error: string;
  /** WhatsApp's error code when the server refused it (error ack: 463, 479 …). */
  statusCode?: number;
}

// ── timer facts (see timers.ts) ─────────────────────────────────────────────
/** `at`: the runtime's clock when the timer fired (for the stable-open backoff reset). */
interface TimerFact {
  token: number;
  at: number;
}
export interface ConnectTimedOut extends TimerFact {
  type: 'ConnectTimedOut';
}
export interface IdleElapsed extends TimerFact {
  type: 'IdleElapsed';
}
export interface ProbeDue extends TimerFact {
  type: 'ProbeDue';
}
/** `stalledMs`: the longest event-loop stall the runtime saw while the probe was out. */
export interface ProbeTimedOut extends TimerFact {
  type: 'ProbeTimedOut';
  stalledMs: number;
}
export interface BackoffElapsed extends TimerFact {
  type: 'BackoffElapsed';
}
export interface DrainTimedOut extends TimerFact {
  type: 'DrainTimedOut';
}
/** The oldest send in flight got no ack in time. `stalledMs` as for ProbeTimedOut. */
export interface AckTimedOut extends TimerFact {
  type: 'AckTimedOut';
  stalledMs: number;
}

export type TimerEvent =
  ConnectTimedOut | IdleElapsed | ProbeDue | ProbeTimedOut | BackoffElapsed | DrainTimedOut | AckTimedOut;

export type AccountEvent =
  | Connect
  | Disconnect
  | Logout
  | Pair
  | Recycle
  | Send
  | Expire
  | SocketOpened
  | SocketClosed
  | QrReceived
  | PairingCodeIssued
  | InboundReceived
  | ProbeAnswered
  | SendAcked
  | SendRejected
  | TimerEvent;

export type AccountEventType = AccountEvent['type'];

/** Every event type, for exhaustiveness checks in tests and the diagram. */
export const ACCOUNT_EVENT_TYPES = [
  'Connect',
  'Disconnect',
  'Logout',
  'Pair',
  'Recycle',
  'Send',
  'Expire',
  'SocketOpened',
  'SocketClosed',
  'QrReceived',
  'PairingCodeIssued',
  'InboundReceived',
  'ProbeAnswered',
  'SendAcked',
  'SendRejected',
  'ConnectTimedOut',
  'IdleElapsed',
  'ProbeDue',
  'ProbeTimedOut',
  'BackoffElapsed',
  'DrainTimedOut',
  'AckTimedOut',
] as const satisfies readonly AccountEventType[];
