import { createHash } from 'node:crypto';

/**
 * The WhatsApp message id of a send, derived from the account and the command id. A
 * crash between handing a message to WhatsApp and recording that it was sent can only
 * ever re-send the same message id, which WhatsApp's receivers treat as one message.
 * Shape of Baileys' own ids ('3EB0' + upper-case hex), so nothing downstream sees a
 * foreign format.
 */
export function waMessageIdFor(account: string, sendId: string): string {
  const digest = createHash('sha256').update(`${account}\u0000${sendId}`).digest('hex');
  return `3EB0${digest.slice(0, 36).toUpperCase()}`;
}
