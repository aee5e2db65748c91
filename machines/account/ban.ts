import type { AccountContext } from './context.js';
import type { SocketClosed } from './events.js';

/**
 * A 402 without an `expire` attribute: how long to stay away. WhatsApp sends `expire`
 * (seconds left, as whatsmeow reads it: events.TemporaryBan.Expire); an hour when it
 * does not is our assumption, long enough not to look like a client ignoring the ban.
 */
export const BAN_WITHOUT_EXPIRY_MS = 3_600_000;

/** What the machine emits when WhatsApp bans the account for a while (`account.banned`). */
export interface BanRecord {
  type: 'account.banned';
  /** Runtime clock ms when the ban ends and the account connects again. */
  untilMs: number;
  statusCode: number;
  banCode?: number;
}

/** The wait a 402 close asks for, from the close's own time. */
export function banOf(event: SocketClosed, _context: AccountContext): BanRecord {
  const waitMs = Math.max(0, event.retryAfterMs ?? BAN_WITHOUT_EXPIRY_MS);
  return {
    type: 'account.banned',
    untilMs: event.at + waitMs,
    statusCode: event.statusCode ?? 402,
    ...(event.banCode !== undefined ? { banCode: event.banCode } : {}),
  };
}
