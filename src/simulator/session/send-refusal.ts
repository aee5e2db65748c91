// The `rejectSends` fault: which client sends the server refuses with an error ack, as
// WhatsApp does for 463 (reach-out restricted / missing privacy token) or 479 (invalid
// stanza). Baileys reads the ack's `error` in handleBadAck (Socket/messages-recv.js) and
// emits messages.update status ERROR with messageStubParameters [error].
import { parseJid } from '../accounts/jids.js';
import type { Connection } from './connection.js';

/** The error code to refuse this send with, if the fault applies to it; uses one of a `count`. */
export function refusalFor(conn: Connection, to: string): string | undefined {
  const rule = conn.faults().rejectSends;
  if (!rule) return undefined;
  if (rule.to !== undefined) {
    const user = parseJid(to)?.user;
    const contact = conn.ctx.contacts.resolve(to);
    if (user !== rule.to && contact?.phone !== rule.to && contact?.lid !== rule.to) return undefined;
  }
  conn.ctx.faults.consume(conn.account?.phone, 'rejectSends');
  return rule.error;
}
