import {
  ACCOUNT_EVENT_TYPES,
  DISCONNECT_POLICY,
  TIMERS,
  type AccountEvent,
  type AccountEventType,
  type AccountSnapshot,
} from '../../machines/index.js';

/** Status codes the tests close with: every policy row, plus one nobody knows. */
export const CLOSE_CODES = [...Object.keys(DISCONNECT_POLICY).map(Number), 499] as const;

/** Sends held or in flight at once are capped so the model's state space stays finite. */
export const MAX_OPEN_SENDS = 2;

/**
 * Every concrete event that means something in this snapshot: facts carry the current
 * socket, probe and timer identities, sends use fresh ids, acks name a known send.
 * A pure function of the snapshot (graph traversal requires it). Used to generate
 * model paths and random sequences alike.
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
    { type: 'QrReceived', connectionId },
    { type: 'PairingCodeIssued', connectionId },
    { type: 'InboundReceived', connectionId },
    { type: 'ProbeAnswered', probeId: c.probeId, rttMs: 12 },
  ];
  // Logged out, a send is refused and never accepted: its id must not be the next accepted send's
  // (a client repeating a refused id gets the earlier reply from the NATS layer, never the machine).
  if (snapshot.value === 'loggedOut') events.push({ type: 'Send', id: `refused-${c.accepted + 1}` });
  else if (tracked.length < MAX_OPEN_SENDS) events.push({ type: 'Send', id: `s${c.accepted + 1}` });
  const first = tracked[0];
  if (first !== undefined) {
    events.push({ type: 'SendAcked', id: first });
    events.push({ type: 'SendRejected', id: first, error: 'server refused' });
  }
  const held = c.outbox[0];
  if (held !== undefined) events.push({ type: 'Expire', id: held });
  if (c.armed) {
    const fires = TIMERS[c.armed].fires;
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
 * sends. A generated path says *what* happens (a 408 close, an ack of the oldest send);
 * the live run supplies *which* socket or send it happens to, as a real system would.
 */
export function bindTo(template: AccountEvent, live: AccountSnapshot): AccountEvent {
  const c = live.context;
  switch (template.type) {
    case 'Send':
      return template.id.startsWith('s') ? { type: 'Send', id: `s${c.accepted + 1}` } : template;
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
