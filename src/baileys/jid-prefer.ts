/**
 * v7 addresses chats by LID; the phone-number JID (Baileys' `…Alt`, from the stanza's
 * `sender_pn` / `participant_pn`) is what users send to, so it is preferred when
 * WhatsApp supplies it. Without one the LID (`…@lid`) is reported as it is, and a send
 * to it works too.
 */
export function preferPhoneJid(jid: string, alt: string | null | undefined): string {
  return alt && alt.endsWith('@s.whatsapp.net') ? alt : jid;
}
