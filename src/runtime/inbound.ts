/**
 * Inbound messages become facts, each WhatsApp message id once: after a reconnect
 * WhatsApp may deliver again (offline `append`) what was read before the drop.
 * - a message is `message.in` with its kind and fields (baileys/inbound-content.ts);
 *   with `media.download` on, its media is downloaded and decrypted into `WA_MEDIA`
 *   first and the event names the object (the download fields are dropped: the media
 *   key stays out of the stream); off, or when the download fails, the event carries
 *   the download fields instead;
 * - a reaction, an edit or a revoke is `message.reaction|edited|deleted`.
 * Facts leave in arrival order: a text after an image waits for the image's download.
 * One Baileys could not decrypt becomes `message.undecryptable` (once per id); it is not
 * "seen", so the copy the sender re-encrypts for Baileys' retry receipt still becomes its
 * one `message.in`. An id already delivered is never reported undecryptable afterwards.
 */
import type { Logger } from 'pino';
import { DOWNLOAD_FIELDS, type InboundContent } from '../baileys/inbound-content.js';
import type { InboundMessage } from '../baileys/connection.js';
import { isGroupJid, type InboundMedia } from '../contract/index.js';
import type { UndecryptableMessage } from '../baileys/undecryptable.js';
import { Lru } from './lru.js';
import type { FactSink, MediaPort } from './port.js';

/** Inbound message ids remembered to drop a redelivery (offline `append` after a reconnect). */
const INBOUND_DEDUP_SIZE = 10_000;
/** A download that takes longer holds every later message of the account: give up and pass the fields on. */
export const DOWNLOAD_TIMEOUT_MS = 60_000;

export type InboundOptions = {
  media?: MediaPort | undefined;
  /** `media.download` (default true). */
  download?: boolean | undefined;
  log?: Logger;
};

export class Inbound {
  private readonly seen = new Lru<true>(INBOUND_DEDUP_SIZE);
  private chain = Promise.resolve();

  /** Settles once every fact received so far has gone to the sink (media downloads included). */
  settled(): Promise<void> {
    return this.chain;
  }
  /** Ids reported undecryptable: Baileys retries up to 5 times, each failure is one more stub. */
  private readonly undecryptable = new Lru<true>(INBOUND_DEDUP_SIZE);

  constructor(
    private readonly account: string,
    private readonly sink: FactSink,
    private readonly o: InboundOptions = {},
  ) {}

  /** `chat` remembers a group message's sender (for its read receipt), redelivered or not. */
  received(m: InboundMessage, chat?: { inbound(m: InboundMessage): void }): void {
    chat?.inbound(m);
    if (this.seen.has(m.waMessageId)) return;
    this.seen.set(m.waMessageId, true);
    const c = m.content;
    if (c?.type === 'message' && c.media && m.download && this.o.media && this.o.download !== false) {
      const media = this.o.media;
      const download = m.download;
      this.chain = this.chain.then(async () => {
        const got = await this.fetch(m.waMessageId, c.media!, download, media);
        this.emit(m, { ...c, media: got });
      });
      return;
    }
    this.chain = this.chain.then(() => this.emit(m, c));
  }

  private async fetch(
    waMessageId: string,
    media: InboundMedia,
    download: () => Promise<Uint8Array>,
    store: MediaPort,
  ): Promise<InboundMedia> {
    const name = `in/${this.account}/${waMessageId}`;
    let timer: NodeJS.Timeout | undefined;
    try {
      const bytes = await Promise.race([
        download(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`download took over ${DOWNLOAD_TIMEOUT_MS} ms`)),
            DOWNLOAD_TIMEOUT_MS,
          );
        }),
      ]);
      const stored = await store.store(name, bytes, media.mimetype);
      const kept: InboundMedia = { ...media, object: name, size: stored.size, sha256: stored.sha256 };
      for (const f of DOWNLOAD_FIELDS) delete kept[f];
      return kept;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.o.log?.warn(
        { waMessageId, err: reason },
        'inbound media download failed; message.in carries the download fields',
      );
      return { ...media, downloadError: reason.slice(0, 256) };
    } finally {
      clearTimeout(timer);
    }
  }

  private emit(m: InboundMessage, c: InboundContent | undefined): void {
    const { account } = this;
    const about = { account, from: m.from, chat: m.chat, timestamp: new Date(m.timestamp).toISOString() };
    switch (c?.type) {
      case 'reaction':
        this.sink({
          ...about,
          type: 'message.reaction',
          waMessageId: m.waMessageId,
          target: c.target,
          targetFromMe: c.targetFromMe,
          emoji: c.emoji,
        });
        return;
      case 'edited':
        this.sink({
          ...about,
          type: 'message.edited',
          waMessageId: m.waMessageId,
          target: c.target,
          targetFromMe: c.targetFromMe,
          text: c.text,
        });
        return;
      case 'deleted':
        this.sink({
          ...about,
          type: 'message.deleted',
          waMessageId: m.waMessageId,
          target: c.target,
          targetFromMe: c.targetFromMe,
        });
        return;
      case 'message':
      case undefined: {
        const { type: _type, ...fields } = c ?? { type: 'message' as const };
        this.sink({
          ...about,
          type: 'message.in',
          waMessageId: m.waMessageId,
          ...(isGroupJid(m.chat) ? { participant: m.from } : {}),
          ...(m.text !== undefined ? { text: m.text } : {}),
          ...fields,
        });
        return;
      }
      default: {
        const unreachable: never = c;
        return unreachable;
      }
    }
  }

  failedToDecrypt(m: UndecryptableMessage): void {
    if (this.seen.has(m.waMessageId) || this.undecryptable.has(m.waMessageId)) return;
    this.undecryptable.set(m.waMessageId, true);
    // Through the chain: facts leave in arrival order, after a media download before it.
    this.chain = this.chain.then(() =>
      this.sink({
        account: this.account,
        type: 'message.undecryptable',
        waMessageId: m.waMessageId,
        from: m.from,
        chat: m.chat,
        reason: m.reason,
        timestamp: new Date(m.timestamp).toISOString(),
      }),
    );
  }
}
