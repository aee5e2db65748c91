/**
 * How auth values look in NATS KV (`WA_AUTH`): key names and value bytes.
 *
 * - Keys: `<account>.creds`, `<account>.<type>.<id>` and the writer record
 *   `<account>._writer`. Baileys ids hold `:`, `@`, `.` (`123:4@lid`, group sender keys),
 *   which KV keys may not; every character outside `[A-Za-z0-9_-]` is written `=xx`
 *   (hex of its UTF-16 code unit, `=uxxxx` above 0xff), so the mapping is reversible and
 *   no id can add a token.
 * - Values: Baileys' BufferJSON text (UTF-8), or, with an operator key, AES-256-GCM of
 *   that text: `WAE1` · key id length (1 byte) · key id · 12-byte IV · 16-byte tag ·
 *   ciphertext, with the KV key as additional data (a value cannot be moved to another
 *   key). JSON never starts with `WAE1`, so plaintext and encrypted values mix (a store
 *   becomes encrypted key by key as values are rewritten; the takeover rewrites all).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { WaError } from '../contract/errors.js';

export const AUTH_BUCKET = 'WA_AUTH';
export const WRITER_KEY = '_writer';
const CREDS = 'creds';
const MAGIC = Buffer.from('WAE1');
const IV_BYTES = 12;
const TAG_BYTES = 16;

const enc = (s: string) =>
  s.replace(/[^A-Za-z0-9_-]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `=${code.toString(16).padStart(2, '0')}` : `=u${code.toString(16).padStart(4, '0')}`;
  });
const dec = (s: string) =>
  s.replace(/=(u[0-9a-f]{4}|[0-9a-f]{2})/g, (_, h: string) =>
    String.fromCharCode(Number.parseInt(h.startsWith('u') ? h.slice(1) : h, 16)),
  );

export const credsKey = (account: string) => `${account}.${CREDS}`;
export const writerKey = (account: string) => `${account}.${WRITER_KEY}`;
export const signalKey = (account: string, type: string, id: string) => `${account}.${enc(type)}.${enc(id)}`;

/** `[type, id]` of a signal key of `account`; null for creds, the writer record, anything else. */
export function parseSignalKey(account: string, key: string): [type: string, id: string] | null {
  const parts = key.split('.');
  if (parts.length !== 3 || parts[0] !== account) return null;
  const out: [string, string] = [dec(parts[1]!), dec(parts[2]!)];
  return signalKey(account, ...out) === key ? out : null;
}

/** The value could not be decrypted: wrong or missing operator key, or tampered bytes. */
export class AuthKeyError extends WaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('internal', message, options);
  }
}

/** Operator keys: the first encrypts, all decrypt (rotation). Never logged: only ids leave this object. */
export class Keyring {
  private constructor(private readonly keys: Map<string, Buffer>) {}

  static readonly none = new Keyring(new Map());

  /**
   * `<id>:<base64 of 32 bytes>` per line or comma, the current key first. Lines
   * starting with `#` are comments. Ids: 1–32 of `A-Za-z0-9_-`.
   */
  static parse(text: string, source: string): Keyring {
    const keys = new Map<string, Buffer>();
    for (const raw of text.split(/[\n,]/)) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const m = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/=]+)$/.exec(line);
      const key = m ? Buffer.from(m[2]!, 'base64') : null;
      if (!m || key?.length !== 32)
        throw new WaError('bad_request', `${source}: each key must be <id>:<base64 of 32 bytes> (line not shown)`);
      if (keys.has(m[1]!)) throw new WaError('bad_request', `${source}: key id ${m[1]} appears twice`);
      keys.set(m[1]!, key);
    }
    if (keys.size === 0) throw new WaError('bad_request', `${source} holds no key`);
    return new Keyring(keys);
  }

  /** `WA_CONND_AUTH_KEY` (the keys themselves) wins over `auth.encryptionKeyFile`; neither: no encryption. */
  static load(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Keyring {
    const fromEnv = env['WA_CONND_AUTH_KEY'];
    if (fromEnv) return Keyring.parse(fromEnv, 'WA_CONND_AUTH_KEY');
    if (!file) return Keyring.none;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new WaError('bad_request', `cannot read auth.encryptionKeyFile ${file}`, { cause });
    }
    return Keyring.parse(text, file);
  }

  /** Id of the key new values are written with; undefined: plaintext. */
  get current(): string | undefined {
    return this.keys.keys().next().value;
  }

  get ids(): string[] {
    return [...this.keys.keys()];
  }

  encode(kvKey: string, json: string): Uint8Array {
    const id = this.current;
    if (id === undefined) return Buffer.from(json, 'utf8');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(id)!, iv);
    cipher.setAAD(Buffer.from(kvKey));
    const ct = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
    const kid = Buffer.from(id);
    return Buffer.concat([MAGIC, Buffer.from([kid.length]), kid, iv, cipher.getAuthTag(), ct]);
  }

  /** Key id a stored value is encrypted with; undefined for plaintext. */
  static keyIdOf(bytes: Uint8Array): string | undefined {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (b.length < MAGIC.length + 1 || !b.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    return b.subarray(MAGIC.length + 1, MAGIC.length + 1 + b[MAGIC.length]!).toString();
  }

  decode(kvKey: string, bytes: Uint8Array): string {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const id = Keyring.keyIdOf(b);
    if (id === undefined) return b.toString('utf8');
    const key = this.keys.get(id);
    if (!key)
      throw new AuthKeyError(
        `${kvKey} is encrypted with key id "${id}", which is not configured (auth.encryptionKeyFile or WA_CONND_AUTH_KEY; configured: ${this.ids.join(', ') || 'none'})`,
      );
    let at = MAGIC.length + 1 + Buffer.byteLength(id);
    const iv = b.subarray(at, (at += IV_BYTES));
    const tag = b.subarray(at, (at += TAG_BYTES));
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(kvKey));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(b.subarray(at)), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw new AuthKeyError(`${kvKey} does not decrypt with key id "${id}" (a different key under that id?)`, {
        cause,
      });
    }
  }
}
