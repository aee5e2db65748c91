/**
 * Whether the NATS connection is up, from the client's status stream: down from a
 * `disconnect` (or `reconnecting`, a stale connection, `close`) until the `reconnect`.
 * Readiness, `/metrics` and the inspector header read it.
 */
import type { NatsConnection } from '@nats-io/transport-node';

export interface ConnectionStatus {
  /** The connection is up (not disconnected, reconnecting or closed). */
  connected(): boolean;
  close(): void;
}

export function watchConnection(nc: NatsConnection): ConnectionStatus {
  let up = !nc.isClosed();
  let closed = false;
  void (async () => {
    for await (const s of nc.status()) {
      if (closed) return;
      if (s.type === 'disconnect' || s.type === 'reconnecting' || s.type === 'staleConnection' || s.type === 'close')
        up = false;
      else if (s.type === 'reconnect') up = true;
    }
  })().catch(() => undefined);
  return {
    connected: () => up && !nc.isClosed(),
    close() {
      closed = true;
    },
  };
}
