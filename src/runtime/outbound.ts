/**
 * What the runtime keeps about outgoing sends: the payloads the machine refers to by id,
 * the WhatsApp message id each went out with (acks and receipts name that id), and,
 * for a while after the ack, the text (WhatsApp may ask for a re-encrypted copy).
 */
import type { proto } from '@whiskeysockets/baileys';
import { Lru } from './lru.js';
import { waMessageIdFor } from './message-id.js';
import type { OutgoingSend } from './port.js';

/** Sent texts kept after their ack, for WhatsApp's retry requests (re-encrypt). */
const SENT_TEXT_CACHE = 1_000;
/** Message ids remembered for receipts (delivered/read) after the payload is gone. */
const SENT_ID_CACHE = 10_000;

export class Outbound {
  private readonly payloads = new Map<string, OutgoingSend>();
  private readonly sendIdByWaId = new Lru<string>(SENT_ID_CACHE);
  private readonly sentTexts = new Lru<string>(SENT_TEXT_CACHE);
  private readonly sentMessages = new Lru<proto.IMessage>(SENT_TEXT_CACHE);

  constructor(private readonly account: string) {}

  remember(send: OutgoingSend): void {
    if (!this.payloads.has(send.id)) this.payloads.set(send.id, send);
  }

  payload(id: string): OutgoingSend | undefined {
    return this.payloads.get(id);
  }

  /** The WhatsApp message id this send goes out with: recorded before, or derived from its id. */
  waMessageId(send: OutgoingSend): string {
    const waMessageId = send.waMessageId ?? waMessageIdFor(this.account, send.id);
    this.sendIdByWaId.set(waMessageId, send.id);
    return waMessageId;
  }

  sendIdOf(waMessageId: string): string | undefined {
    return this.sendIdByWaId.get(waMessageId);
  }

  /** The server took it: keep the text a while for retries, drop the payload. */
  acked(id: string, waMessageId: string): void {
    const text = this.payloads.get(id)?.text;
    if (text !== undefined) this.sentTexts.set(waMessageId, text);
    this.payloads.delete(id);
  }

  /** A message other than a plain text, as it went out: kept for WhatsApp's retry requests. */
  sentMessage(waMessageId: string, message: proto.IMessage | undefined): void {
    if (message) this.sentMessages.set(waMessageId, message);
  }

  /** Failed, expired or refused: nothing more will go out for it. */
  forget(id: string): void {
    this.payloads.delete(id);
  }

  /** For Baileys' getMessage (retry requests). */
  message(waMessageId: string): proto.IMessage | undefined {
    const sent = this.sentMessages.get(waMessageId);
    if (sent) return sent;
    const id = this.sendIdByWaId.get(waMessageId);
    const text = this.sentTexts.get(waMessageId) ?? (id ? this.payloads.get(id)?.text : undefined);
    return text === undefined ? undefined : { conversation: text };
  }
}
