/**
 * Recipients. A client may name one by phone number (E.164, as people write it) or
 * by WhatsApp JID; events and the outbox only ever carry the normalised JID so the
 * same person is one key whatever form the client used.
 */
import { WaError } from './errors.js';

export const USER_SERVER = 's.whatsapp.net';
export const LID_SERVER = 'lid';
export const GROUP_SERVER = 'g.us';

/**
 * E.164: country code first (never 0), at most 15 digits. 7 is the shortest national
 * number in use; shorter is a typo, not a phone.
 */
const E164_DIGITS = /^[1-9][0-9]{6,14}$/;
/** Separators people paste with numbers ("+49 151 234-5678", "(030) …"). */
const PHONE_SEPARATORS = /[\s().-]/g;
const JID_FORM = /^([0-9]{1,20})@(s\.whatsapp\.net|c\.us|lid)$/;
/** `120363…@g.us` (current) or `<creator>-<seconds>@g.us` (groups made before 2021). */
export const GROUP_JID = /^[0-9]{1,20}(-[0-9]{1,20})?@g\.us$/;

export function isGroupJid(jid: string): boolean {
  return GROUP_JID.test(jid);
}

/** `+49 151 2345678` / `491512345678` → `491512345678`; anything else is a typed error. */
export function normalisePhone(input: string): string | WaError {
  const trimmed = input.trim();
  const bare = trimmed.replace(PHONE_SEPARATORS, '');
  const digits = bare.startsWith('+') ? bare.slice(1) : bare;
  if (!E164_DIGITS.test(digits)) {
    return new WaError(
      'bad_request',
      'phone must be an international number (E.164), e.g. +4915123456789; no leading 0 or 00',
    );
  }
  return digits;
}

/**
 * Normalises a `send` recipient to a user JID:
 * - E.164 number → `<digits>@s.whatsapp.net`
 * - `<digits>@s.whatsapp.net` / `<digits>@lid` → itself (lowercased)
 * - `<digits>@c.us` (whatsapp-web.js spelling) → `<digits>@s.whatsapp.net`
 * - a group JID (`<digits>@g.us`, `<digits>-<digits>@g.us`) → itself
 * Broadcasts and device JIDs (`user:device@…`) are refused: the device fan-out is the
 * library's business.
 */
export function normaliseRecipient(input: string): string | WaError {
  const trimmed = input.trim().toLowerCase();
  if (GROUP_JID.test(trimmed)) return trimmed;
  if (trimmed.includes('@')) {
    const m = JID_FORM.exec(trimmed);
    if (!m) {
      return new WaError(
        'bad_request',
        '`to` must be a phone number, a user JID (<digits>@s.whatsapp.net or <digits>@lid) or a group JID (<digits>@g.us)',
      );
    }
    const [, user, server] = m as unknown as [string, string, string];
    return `${user}@${server === LID_SERVER ? LID_SERVER : USER_SERVER}`;
  }
  const phone = normalisePhone(trimmed);
  return phone instanceof WaError ? phone : `${phone}@${USER_SERVER}`;
}
