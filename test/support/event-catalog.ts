import {
  ACCOUNT_EVENT_TYPES,
  DISCONNECT_POLICY,
  stateName,
  TIMERS,
  type AccountEvent,
  type AccountEventType,
  type AccountSnapshot,
  type AccountStateName,
  type StateTimerName,
} from '../../machines/index.js';

/** Status codes the tests close with: every policy row, plus one nobody knows. */
export const CLOSE_CODES = [...Object.keys(DISCONNECT_POLICY).map(Number), 499] as const;

/** Sends held or in flight at once are capped so the model's state space stays finite. */
export const MAX_OPEN_SENDS = 2;

/** The timer each state arms on entry (machine.ts); the invariants check the machine does. */
export const STATE_TIMER: Readonly<Partial<Record<AccountStateName, StateTimerName>>> = {
  connecting: 'connect',
  open: 'idle',
  idle: 'probeJitter',
  pinging: 'probe',
  draining: 'drain',
  reconnecting: 'backoff',
};

/** Every send the catalog offers has an id never offered before: a send is never confused with an earlier one. */
let offered = 0;

/**
 * Every concrete event that means something in this snapshot: facts carry the current
 * socket, probe and timer identities, sends use fresh ids, acks name a known send.
 * A function of the snapshot but for the fresh send id. Used to generate model paths and
 * random sequences alike.
 */
const made = new WeakSet<object>();

/** True for events the catalog made (graph traversal adds bare `{ type }` events of its own). */
export const fromCatalog = (event: object): boolean => made.has(event);

export function eventsFor(snapshot: AccountSnapshot): AccountEvent[] {
  const events = catalogEvents(snapshot);
  for (const e of events) made.add(e);
  return events;
}

function catalogEvents(snapshot: AccountSnapshot): AccountEvent[] {
  const c = snapshot.context;
  const connectionId = c.connectionId;
  const tracked = [...c.inFlight, ...c.outbox];
  const events: AccountEvent[] = [
    { type: 'Connect' },
    { type: 'Disconnect' },
    { type: 'Logout' },
    { type: 'Pair' },
    { type: 'Pair', phone: '+4915100000000' },
    { type: 'Recycle', reason: 'dropPredicted' },
    { type: 'SocketOpened', connectionId, at: 0 },
    ...CLOSE_CODES.map((statusCode): AccountEvent => ({ type: 'SocketClosed', connectionId, statusCode, at: 0 })),
    { type: 'SocketClosed', connectionId, at: 0 },
    // A 402 ban with its expiry (the plain 402 above has none: the machine's fallback).
    { type: 'SocketClosed', connectionId, statusCode: 402, retryAfterMs: 5_000, banCode: 101, at: 0 },
    { type: 'QrReceived', connectionId },
    { type: 'PairingCodeIssued', connectionId },
    { type: 'InboundReceived', connectionId },
    { type: 'ProbeAnswered', probeId: c.probeId, rttMs: 12 },
  ];
  if (tracked.length < MAX_OPEN_SENDS || snapshot.value === 'loggedOut')
    events.push({ type: 'Send', id: `s${++offered}` });
  const first = tracked[0];
  if (first !== undefined) {
    events.push({ type: 'SendAcked', id: first });
    events.push({ type: 'SendRejected', id: first, error: 'server refused' });
  }
  const held = c.outbox[0];
  if (held !== undefined) events.push({ type: 'Expire', id: held });
  const timer = STATE_TIMER[stateName(snapshot)];
  if (timer) {
    const fires = TIMERS[timer].fires;
    const token = c.timerToken;
    if (fires === 'ProbeTimedOut') {
      events.push({ type: fires, token, at: 0, stalledMs: 0 });
      events.push({ type: fires, token, at: 0, stalledMs: 10 * c.timings.stallThresholdMs });
    } else {
      events.push({ type: fires, token, at: 0 });
    }
  }
  if (c.ackFor !== null) {
    events.push({ type: 'AckTimedOut', token: c.ackToken, at: 0, stalledMs: 0 });
    events.push({ type: 'AckTimedOut', token: c.ackToken, at: 0, stalledMs: 10 * c.timings.stallThresholdMs });
  }
  return events;
}

/** Every event type the catalog can produce — checked against the machine's list. */
export const CATALOG_TYPES: readonly AccountEventType[] = ACCOUNT_EVENT_TYPES;

/**
 * The same event, bound to another run's identities: its socket, timer token, probe and
 * tracked sends (a new send keeps its fresh id). A generated path says *what* happens (a
 * 408 close, an ack of the oldest send); the live run supplies *which* socket or send it
 * happens to, as a real system would.
 */
export function bindTo(template: AccountEvent, live: AccountSnapshot): AccountEvent {
  const c = live.context;
  switch (template.type) {
    case 'SendAcked':
    case 'SendRejected':
      return { ...template, id: [...c.inFlight, ...c.outbox][0] ?? template.id };
    case 'Expire':
      return { ...template, id: c.outbox[0] ?? template.id };
    case 'SocketOpened':
    case 'SocketClosed':
    case 'QrReceived':
    case 'PairingCodeIssued':
    case 'InboundReceived':
      return { ...template, connectionId: c.connectionId };
    case 'ProbeAnswered':
      return { ...template, probeId: c.probeId };
    case 'ConnectTimedOut':
    case 'IdleElapsed':
    case 'ProbeDue':
    case 'ProbeTimedOut':
    case 'BackoffElapsed':
    case 'DrainTimedOut':
      return { ...template, token: c.timerToken };
    case 'AckTimedOut':
      return { ...template, token: c.ackToken };
    case 'Send':
    case 'Connect':
    case 'Disconnect':
    case 'Logout':
    case 'Pair':
    case 'Recycle':
      return template;
    default: {
      const unreachable: never = template;
      return unreachable;
    }
  }
}
