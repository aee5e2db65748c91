/**
 * What the account does when the socket closes, by Baileys `DisconnectReason`
 * (the statusCode of the close). The one place this decision is made.
 */
export type CloseAction =
  /** transient: wait a jittered backoff, then connect again */
  | 'backoff'
  /** the server asked for a restart: connect again at once */
  | 'reconnectNow'
  /** do not reconnect: an operator has to act */
  | 'stop'
  /** temporarily banned: no attempt until the ban's expiry, then a normal reconnect */
  | 'waitBan'
  /** the device was unlinked: only a new pairing helps */
  | 'loggedOut';

export interface ClosePolicy {
  reason: string;
  action: CloseAction;
}

export const DISCONNECT_POLICY: Readonly<Record<number, ClosePolicy>> = {
  // 408 connectionLost/timedOut: the field report's idle-timer drop; transient.
  408: { reason: 'connectionLost', action: 'backoff' },
  // 428 connectionClosed: the socket ended without a stream error (abrupt close).
  428: { reason: 'connectionClosed', action: 'backoff' },
  // 500 badSession: the server could not resume; a fresh login usually works.
  500: { reason: 'badSession', action: 'backoff' },
  // 503 unavailableService: WhatsApp is down for a moment.
  503: { reason: 'unavailableService', action: 'backoff' },
  // 515 restartRequired: sent after pairing and on server restarts; expected at once.
  515: { reason: 'restartRequired', action: 'reconnectNow' },
  // 440 connectionReplaced: another client took the session. Reconnecting would kick
  // it out and start a replace loop (seen in peers' trackers), so stop and report.
  440: { reason: 'connectionReplaced', action: 'stop' },
  // 401 loggedOut: the phone unlinked this device; credentials are dead.
  401: { reason: 'loggedOut', action: 'loggedOut' },
  // 402 temporary ban (`<failure reason=402 code expire>`): reconnecting early would only
  // be refused again and may lengthen the ban; wait out `expire`, then connect (ban.ts).
  402: { reason: 'temporarilyBanned', action: 'waitBan' },
  // 405 client outdated: WhatsApp refuses this client version; only an upgrade of
  // Baileys (and of wa-connd) helps, so stop and say so.
  405: { reason: 'clientOutdated', action: 'stop' },
  // 403 forbidden: the account is banned or blocked; retrying makes it worse.
  403: { reason: 'forbidden', action: 'stop' },
  // 411 multideviceMismatch: the account is not on multi-device; nothing to retry.
  411: { reason: 'multideviceMismatch', action: 'stop' },
};

/**
 * The socket never reached the server (DNS, connection refused, TLS, a proxy): not a
 * disconnect WhatsApp chose, so not a status code (Baileys reports these as 408 or 500).
 * Transient from here (the network may come back), so back off; the transition carries
 * the network error code as `cause`.
 */
export const UNREACHABLE: ClosePolicy = { reason: 'unreachable', action: 'backoff' };

/** Unknown codes back off (the brief); their transitions say `unknown`, so /metrics counts them (`wa_disconnects_total{reason="unknown"}`). */
export const UNKNOWN_CLOSE: ClosePolicy = { reason: 'unknown', action: 'backoff' };

export function closePolicy(statusCode: number | undefined): ClosePolicy & { known: boolean } {
  const known = statusCode === undefined ? undefined : DISCONNECT_POLICY[statusCode];
  return known ? { ...known, known: true } : { ...UNKNOWN_CLOSE, known: false };
}
