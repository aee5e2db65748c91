// A registered companion device as the server knows it. One device per phone number: pairing
// the same number again replaces the record (the old credentials then fail with 401, as on
// the real service when a device is unlinked).
import { randomInt } from 'node:crypto';
import { Curve, type KeyPair, type proto } from '../wa.js';
import { lidOf, lidJid, pnJid } from './jids.js';

/** Prekeys the server keeps per device to start inbound sessions. Baileys uploads 812 on a
 * first login; keeping them all for 1,000 accounts would cost ~30 MB for nothing, so we keep
 * a few and fall back to signed-prekey-only sessions (valid Signal) when they run out. */
export const RETAINED_PREKEYS = 16;

export interface UploadedPreKey {
  keyId: number;
  publicKey: Buffer;
}

/** What the client uploaded with `<iq xmlns=encrypt type=set>` (or provisioning made). */
export interface DeviceBundle {
  registrationId: number;
  identityKey: Buffer;
  signedPreKey: { keyId: number; publicKey: Buffer; signature: Buffer };
  preKeys: UploadedPreKey[];
  /** How many prekeys the client believes the server holds (reported by `<count>`). */
  preKeyCount: number;
}

export interface QueuedInbound {
  id: string;
  from: string;
  /** What the contact sends (built once, so a resend after a drop is the same message). */
  message: proto.IMessage;
  /** `<message type>` and `<message edit>` attributes. */
  type: string;
  edit?: string;
  t: number;
}

export interface Account {
  phone: string;
  lid: string;
  device: number;
  name: string;
  /** The ADV account key: the "primary phone" signs companion identities with it. */
  accountKey: KeyPair;
  /** The client's Noise static key once known; a login with another key is refused (401). */
  noiseKey?: Buffer | undefined;
  bundle?: DeviceBundle;
  /** Inbound messages waiting for the device to connect (delivered before `<ib><offline>`). */
  offline: QueuedInbound[];
  createdAt: number;
}

export const accountJid = (a: Account): string => pnJid(a.phone, a.device);
export const accountLidJid = (a: Account): string => lidJid(a.lid, a.device);

/** Base of the synthetic numbers we hand out: 1-555 is the fiction range. */
const SYNTHETIC_PHONE_BASE = 15_550_000_000;

export class AccountRegistry {
  private readonly byPhone = new Map<string, Account>();
  private nextSynthetic = 1;

  get(phone: string): Account | undefined {
    return this.byPhone.get(phone);
  }

  list(): Account[] {
    return [...this.byPhone.values()];
  }

  get size(): number {
    return this.byPhone.size;
  }

  /** A number not yet used by any account. */
  allocatePhone(): string {
    for (;;) {
      const phone = String(SYNTHETIC_PHONE_BASE + this.nextSynthetic++);
      if (!this.byPhone.has(phone)) return phone;
    }
  }

  /** Creates (or replaces, with the next device id) the account for a phone number. */
  register(phone: string, options: { name?: string; device?: number } = {}): Account {
    const previous = this.byPhone.get(phone);
    const account: Account = {
      phone,
      lid: lidOf(phone),
      device: options.device ?? (previous ? previous.device + 1 : 1 + randomInt(0, 8)),
      name: options.name ?? `Sim ${phone.slice(-4)}`,
      accountKey: previous?.accountKey ?? Curve.generateKeyPair(),
      offline: previous?.offline ?? [],
      createdAt: Date.now(),
    };
    this.byPhone.set(phone, account);
    return account;
  }

  clear(): void {
    this.byPhone.clear();
  }
}
