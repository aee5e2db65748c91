// Synthetic users the accounts talk to. Each phone number gets, lazily, a LID and a Signal
// identity; the same record answers for its PN and LID forms, because the client fetches
// prekeys by LID but addresses `<to jid>` by phone number — keying identities by one
// canonical user is what makes decryption work (otherwise "Bad MAC"). An account's own phone
// number is a contact too: it plays the account's primary phone (device 0).
import { lidOf, LID_SERVER, parseJid } from '../accounts/jids.js';
import { MemorySignalStore } from './memory-store.js';

export interface Contact {
  phone: string;
  lid: string;
  name: string;
  /** Created on first use: most contacts of a 1,000-account benchmark never need keys. */
  store(): MemorySignalStore;
}

export class ContactDirectory {
  private readonly byPhone = new Map<string, Contact>();
  private readonly phoneByLid = new Map<string, string>();

  get(phone: string): Contact {
    let contact = this.byPhone.get(phone);
    if (!contact) {
      let store: MemorySignalStore | undefined;
      const lid = lidOf(phone);
      contact = { phone, lid, name: `Contact ${phone.slice(-4)}`, store: () => (store ??= new MemorySignalStore()) };
      this.byPhone.set(phone, contact);
      this.phoneByLid.set(lid, phone);
    }
    return contact;
  }

  /** Resolves a PN or LID jid (any device) to its contact; unknown LIDs resolve to nothing. */
  resolve(jid: string | undefined): Contact | undefined {
    const parsed = parseJid(jid);
    if (!parsed) return undefined;
    if (parsed.server === LID_SERVER) {
      const phone = this.phoneByLid.get(parsed.user);
      return phone === undefined ? undefined : this.get(phone);
    }
    return /^\d+$/.test(parsed.user) ? this.get(parsed.user) : undefined;
  }

  /** Makes a phone's LID resolvable before anyone addressed it by phone number. */
  know(phone: string): void {
    this.get(phone);
  }

  clear(): void {
    this.byPhone.clear();
    this.phoneByLid.clear();
  }
}
