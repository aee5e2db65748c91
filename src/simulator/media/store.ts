// The simulator's media server storage: encrypted blobs by direct path, in memory. Uploads
// (Baileys, POST /mms/<type>/<token>) and blobs the simulator makes for contacts' media
// both land here; downloads (GET <directPath>) and the ledger's media check read it.
import { randomBytes } from 'node:crypto';

/** Upload size the simulator accepts (and announces in `media_conn`): 100 MiB, WhatsApp's
 * document limit order of magnitude, small enough for memory. */
export const MAX_MEDIA_BYTES = 100 * 1024 * 1024;
/** Total bytes kept; the oldest blobs are dropped beyond it. */
const MAX_STORE_BYTES = 512 * 1024 * 1024;

/** Baileys' upload path per media type (MEDIA_PATH_MAP); stickers upload as images. */
export const UPLOAD_PATH_TYPES = ['image', 'video', 'audio', 'document'] as const;

export interface StoredBlob {
  directPath: string;
  /** The `/mms/<type>` it was uploaded under, or 'simulator' for contacts' media. */
  pathType: string;
  bytes: Buffer;
  at: number;
}

/** One accepted upload, attributed to the account whose `media_conn` auth it presented. */
export interface UploadRecord {
  /** Upload order over the whole simulator (1-based). */
  seq: number;
  account: string;
  /** `/mms/<pathType>`: image (also stickers), video, audio (also voice notes), document. */
  pathType: string;
  directPath: string;
  /** sha256 (hex) of the encrypted blob: a re-encrypted resend of the same file differs. */
  encSha256: string;
  size: number;
  at: number;
}

export class MediaStore {
  private readonly blobs = new Map<string, StoredBlob>();
  private total = 0;
  /** Upload auth per account (handed out in `media_conn`), and back. */
  private readonly authByAccount = new Map<string, string>();
  private readonly accountByAuth = new Map<string, string>();
  private readonly log: UploadRecord[] = [];

  /** The account's upload auth token (made on first use, stable afterwards). */
  authFor(account: string): string {
    let auth = this.authByAccount.get(account);
    if (!auth) {
      auth = randomBytes(24).toString('base64url');
      this.authByAccount.set(account, auth);
      this.accountByAuth.set(auth, account);
    }
    return auth;
  }

  /** Whose upload this is, by the auth it presented; undefined for an auth never issued. */
  accountOf(auth: string | null): string | undefined {
    return auth === null ? undefined : this.accountByAuth.get(auth);
  }

  recordUpload(r: Omit<UploadRecord, 'seq'>): UploadRecord {
    const record = { ...r, seq: this.log.length + 1 };
    this.log.push(record);
    return record;
  }

  uploads(account?: string): UploadRecord[] {
    return this.log.filter((u) => account === undefined || u.account === account).map((u) => ({ ...u }));
  }

  /** Forgets the upload log (the blobs stay downloadable). */
  clearUploads(): void {
    this.log.length = 0;
  }

  put(pathType: string, bytes: Buffer, now = Date.now()): StoredBlob {
    // Shaped like WhatsApp's: /v/t62.7118-24/<id>_n.enc?ccb=11-4&oh=…&oe=…&_nc_sid=…
    const id = `${randomBytes(8).readBigUInt64BE() % 10n ** 17n}_${randomBytes(8).readBigUInt64BE() % 10n ** 16n}`;
    const oe = Math.floor(now / 1000 + 30 * 86400)
      .toString(16)
      .toUpperCase();
    const directPath = `/v/t62.7118-24/${id}_n.enc?ccb=11-4&oh=01_sim&oe=${oe}&_nc_sid=5e03e0`;
    const blob: StoredBlob = { directPath, pathType, bytes, at: now };
    this.blobs.set(pathOf(directPath), blob);
    this.total += bytes.length;
    for (const [key, old] of this.blobs) {
      if (this.total <= MAX_STORE_BYTES) break;
      this.blobs.delete(key);
      this.total -= old.bytes.length;
    }
    return blob;
  }

  /** By direct path or full URL (only the path counts; query strings are ignored). */
  get(directPathOrUrl: string): StoredBlob | undefined {
    return this.blobs.get(pathOf(directPathOrUrl));
  }

  get size(): number {
    return this.blobs.size;
  }

  clear(): void {
    this.blobs.clear();
    this.total = 0;
    this.log.length = 0;
  }
}

function pathOf(directPathOrUrl: string): string {
  try {
    return new URL(directPathOrUrl, 'https://simulator.invalid').pathname;
  } catch {
    return directPathOrUrl;
  }
}
