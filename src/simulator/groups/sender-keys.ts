// Sender-key state of the simulated users, in memory: what each participant learnt from the
// SenderKeyDistributionMessages it received (to decrypt an account's `skmsg`), and each
// contact's own sender key per group (to write group messages to an account).
import {
  GroupCipher,
  GroupSessionBuilder,
  SenderKeyDistributionMessage,
  SenderKeyName,
  SenderKeyRecord,
  encodeWAMessage,
  type proto,
} from '../wa.js';

class HolderStore {
  private readonly records = new Map<string, SenderKeyRecord>();
  async loadSenderKey(name: SenderKeyName): Promise<SenderKeyRecord> {
    return this.records.get(name.toString()) ?? new SenderKeyRecord();
  }
  async storeSenderKey(name: SenderKeyName, record: SenderKeyRecord): Promise<void> {
    this.records.set(name.toString(), record);
  }
}

/** Sender of a group message as the simulator names it: a phone number and a device. */
export interface GroupSender {
  phone: string;
  device: number;
}

const nameOf = (group: string, sender: GroupSender): SenderKeyName =>
  new SenderKeyName(group, { id: sender.phone, deviceId: sender.device, toString: () => sender.phone });

export class SenderKeys {
  private readonly holders = new Map<string, HolderStore>();

  private store(holder: string): HolderStore {
    let s = this.holders.get(holder);
    if (!s) this.holders.set(holder, (s = new HolderStore()));
    return s;
  }

  /** `holder` received `sender`'s distribution message for `group`. */
  async learn(holder: string, group: string, sender: GroupSender, skdm: Uint8Array): Promise<void> {
    const message = new SenderKeyDistributionMessage(null, null, null, null, skdm);
    await new GroupSessionBuilder(this.store(holder)).process(nameOf(group, sender), message);
  }

  /** Decrypts `sender`'s skmsg as `holder`; throws when `holder` has no key for it. */
  async decrypt(holder: string, group: string, sender: GroupSender, skmsg: Uint8Array): Promise<Uint8Array> {
    return new GroupCipher(this.store(holder), nameOf(group, sender)).decrypt(skmsg);
  }

  /** A contact writes to a group: its distribution message and the ciphertext of `message`. */
  async encrypt(
    group: string,
    from: string,
    message: proto.IMessage,
  ): Promise<{ skdm: Uint8Array; skmsg: Uint8Array }> {
    const name = nameOf(group, { phone: from, device: 0 });
    const store = this.store(from);
    const skdm = (await new GroupSessionBuilder(store).create(name)).serialize();
    const skmsg = await new GroupCipher(store, name).encrypt(encodeWAMessage(message));
    return { skdm, skmsg };
  }

  clear(): void {
    this.holders.clear();
  }
}
