// libsignal storage for one synthetic identity (a contact, or an account's primary phone),
// all in memory. One-time prekeys are made on demand when a client fetches a bundle.
import { signal, signedKeyPair, type SessionRecord, type SignalKeyPair, type SignalStorage } from '../wa.js';

export class MemorySignalStore implements SignalStorage {
  readonly identity: SignalKeyPair;
  readonly registrationId: number;
  readonly signedPreKey: { keyId: number; pair: SignalKeyPair; signature: Buffer };
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly preKeys = new Map<number, SignalKeyPair>();
  private nextPreKeyId = 1;

  constructor() {
    this.identity = signal.curve.generateKeyPair();
    this.registrationId = signal.keyhelper.generateRegistrationId();
    const signed = signedKeyPair({ public: this.identity.pubKey.subarray(1), private: this.identity.privKey }, 1);
    this.signedPreKey = {
      keyId: signed.keyId,
      pair: {
        pubKey: Buffer.concat([Buffer.from([5]), signed.keyPair.public]),
        privKey: Buffer.from(signed.keyPair.private),
      },
      signature: Buffer.from(signed.signature),
    };
  }

  /** A fresh one-time prekey for a bundle fetch; consumed when a pkmsg uses it. */
  issuePreKey(): { keyId: number; pair: SignalKeyPair } {
    const keyId = this.nextPreKeyId++;
    const pair = signal.curve.generateKeyPair();
    this.preKeys.set(keyId, pair);
    return { keyId, pair };
  }

  async loadSession(id: string): Promise<SessionRecord | undefined> {
    return this.sessions.get(id);
  }
  async storeSession(id: string, record: SessionRecord): Promise<void> {
    this.sessions.set(id, record);
  }
  hasSession(id: string): boolean {
    return this.sessions.get(id)?.haveOpenSession() ?? false;
  }
  /** Simulated users trust every identity: key changes are not part of what we test. */
  isTrustedIdentity(): boolean {
    return true;
  }
  async loadPreKey(id: number | string): Promise<SignalKeyPair | undefined> {
    return this.preKeys.get(Number(id));
  }
  removePreKey(id: number): void {
    this.preKeys.delete(id);
  }
  loadSignedPreKey(): SignalKeyPair {
    return this.signedPreKey.pair;
  }
  getOurRegistrationId(): number {
    return this.registrationId;
  }
  getOurIdentity(): SignalKeyPair {
    return this.identity;
  }
}
