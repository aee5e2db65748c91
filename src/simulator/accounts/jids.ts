// Phone number ↔ LID for synthetic users. Baileys 7 requires a phone→LID mapping for every
// recipient (usync `<lid val>`), and the server addresses 1:1 traffic by LID. We derive the
// LID from the phone number with a hash so every simulator process (and every test) agrees.
import { createHash } from 'node:crypto';
import { jidDecode } from '../wa.js';

const LID_DIGITS = 15;
const LID_MODULUS = 10n ** BigInt(LID_DIGITS - 1);

export const PN_SERVER = 's.whatsapp.net';
export const LID_SERVER = 'lid';
export const SERVER_JID = 's.whatsapp.net';

export function lidOf(phone: string): string {
  const digest = createHash('sha256').update(`lid:${phone}`).digest();
  // 15 digits starting with 1..9: looks like a real LID, never collides with a phone we issue.
  return (LID_MODULUS * BigInt(1 + (digest[0]! % 9)) + (digest.readBigUInt64BE(1) % LID_MODULUS)).toString();
}

export const pnJid = (phone: string, device?: number): string => `${phone}${device ? `:${device}` : ''}@${PN_SERVER}`;
export const lidJid = (lid: string, device?: number): string => `${lid}${device ? `:${device}` : ''}@${LID_SERVER}`;

export interface ParsedJid {
  user: string;
  device: number;
  server: string;
}

export function parseJid(jid: string | undefined): ParsedJid | undefined {
  const d = jidDecode(jid);
  if (!d?.user) return undefined;
  return { user: d.user, device: d.device ?? 0, server: d.server };
}

/** A phone number as we accept it from the control API: digits only, 5–15 long (E.164). */
export const PHONE_PATTERN = /^\d{5,15}$/;
