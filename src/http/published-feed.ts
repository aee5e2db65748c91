/**
 * The events this gateway published, as NATS delivers them: a core subscription on
 * `wa.evt.>` beside the JetStream publishes. The HTTP pages and metrics read this, not
 * the runtime's facts, because it is what every consumer gets: it includes what the
 * event layer records itself (`send.queued`, sends it fails or expires), carries `seq`
 * and `at`, and leaves out what never reached the stream. While NATS is away nothing
 * arrives; the buffered events follow when it is back, with their own `at`.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { evtFilter, isFenceMarker, parseEvent, WaError, type WaEvent } from '../contract/index.js';

export interface PublishedFeed {
  onEvent(listener: (event: WaEvent) => void): () => void;
  /** The NATS connection is up (not disconnected, reconnecting or closed). */
  connected(): boolean;
  close(): void;
}

/**
 * `owns(account)`: events of accounts this process does not run (another gateway of a
 * shared stream) are left out.
 */
export function followPublished(nc: NatsConnection, owns: (account: string) => boolean, logger: Logger): PublishedFeed {
  const listeners = new Set<(event: WaEvent) => void>();
  let up = !nc.isClosed();
  let closed = false;
  const sub: Subscription = nc.subscribe(evtFilter(), {
    callback: (err, msg) => {
      if (err || isFenceMarker(msg.headers)) return;
      const event = parseEvent(msg.data);
      if (event instanceof WaError) {
        logger.debug({ subject: msg.subject, err: event.message }, 'not an event on wa.evt; skipped by the HTTP feed');
        return;
      }
      if (!owns(event.account)) return;
      for (const l of listeners) {
        try {
          l(event);
        } catch (e) {
          logger.error({ err: e }, 'published-event listener failed');
        }
      }
    },
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (closed) return;
      if (s.type === 'disconnect' || s.type === 'reconnecting' || s.type === 'staleConnection') up = false;
      else if (s.type === 'reconnect') up = true;
      else if (s.type === 'close') up = false;
    }
  })().catch(() => undefined);
  return {
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    connected: () => up && !nc.isClosed(),
    close() {
      closed = true;
      sub.unsubscribe();
      listeners.clear();
    },
  };
}
