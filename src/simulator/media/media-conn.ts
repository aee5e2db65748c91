// The `media_conn` IQ (Socket/messages-send.js refreshMediaConn): `<iq type=set xmlns=w:m>
// <media_conn/></iq>` → `<media_conn auth ttl><host hostname maxContentLengthBytes/>`.
// Baileys uploads to `https://<hostname><MEDIA_PATH_MAP[type]>/<token>?auth=…` and builds
// message URLs from the first host, so the one host announced is the simulator's media
// endpoint (`host:port`).
import type { BinaryNode } from '../wa.js';
import type { Connection } from '../session/connection.js';
import { result } from '../session/iq.js';
import { MAX_MEDIA_BYTES, type MediaStore } from './store.js';
import type { SimulatorTls } from './tls-cert.js';

/** Seconds Baileys may reuse the answer before asking again. */
const MEDIA_CONN_TTL_S = 300;

export interface MediaService {
  store: MediaStore;
  tls: SimulatorTls;
  /** `host:port` of the media endpoint (set once it listens). */
  hostname: string;
  /** `https://host:port`. */
  url: string;
}

export function answerMediaConn(conn: Connection, iq: BinaryNode): void {
  const media = conn.ctx.media;
  const account = conn.account;
  if (!account) {
    conn.send(result(iq));
    return;
  }
  // Per account, so every upload is attributed (GET /media/uploads) and account faults apply.
  const auth = media.store.authFor(account.phone);
  conn.send(
    result(iq, [
      {
        tag: 'media_conn',
        attrs: { auth, ttl: String(MEDIA_CONN_TTL_S), auth_ttl: String(MEDIA_CONN_TTL_S) },
        content: [{ tag: 'host', attrs: { hostname: media.hostname, maxContentLengthBytes: String(MAX_MEDIA_BYTES) } }],
      },
    ]),
  );
}
