// Pairing a new companion, with the simulator playing the primary phone.
// QR: the client registers (ClientPayload.devicePairingData); we send `<pair-device>` refs;
// Baileys shows `https://wa.me/settings/linked_devices#ref,noiseKeyB64,identityKeyB64,advSecretB64,platform` as QR. "Scanning" it
// (control API) sends `<pair-success>` whose device identity is HMAC'd with the advSecret
// from the QR; the client answers `<pair-device-sign>`, we register the device and send
// `<stream:error code=515>` (restart required); the client logs in again with its new creds.
// Pairing code (Baileys requestPairingCode): the client sends `link_code_companion_reg`
// stage companion_hello with its pairing ephemeral key wrapped under PBKDF2(code); the user
// "types the code on the phone" (control API) and we answer with the primary's wrapped
// ephemeral key; the client derives advSecret and sends companion_finish; we derive the same
// advSecret and finish exactly like the QR flow (the key exchange is in link-code-keys.ts).
import { randomBytes } from 'node:crypto';
import type { BinaryNode, proto } from '../wa.js';
import { bytesOf, Curve, getBinaryNodeChild, PUBLIC_KEY_BYTES, type KeyPair } from '../wa.js';
import { SimulatorError } from '../errors.js';
import { PAIRING_REF_COUNT } from '../timing.js';
import { lidJid, parseJid, pnJid, PHONE_PATTERN, SERVER_JID } from '../accounts/jids.js';
import { COMPANION_KEY_INDEX, encodeDeviceIdentityHmac, signDeviceIdentity } from '../accounts/adv.js';
import { PRIMARY_PLATFORM } from '../accounts/provision.js';
import type { DeviceBundle } from '../accounts/account.js';
import type { Connection } from './connection.js';
import { iqError, result } from './iq.js';
import {
  linkCodeAdvSecret,
  unwrapCompanionEphemeral,
  WRAPPED_KEY_BYTES,
  wrapPrimaryEphemeral,
} from './link-code-keys.js';

/** Baileys' restart-required stream error after pairing (DisconnectReason.restartRequired). */
const RESTART_REQUIRED = 515;

export interface PendingPairing {
  refs: string[];
  data: proto.ClientPayload.IDevicePairingRegistrationData;
  linkCode?: {
    phone: string;
    wrappedCompanionEphemeral: Buffer;
    companionEphemeral?: Buffer;
    primaryEphemeral?: KeyPair;
    ref?: string;
  };
}

export interface ScanResult {
  connectionId: string;
  phone: string;
}

export class Pairing {
  private readonly byRef = new Map<string, Connection>();
  private readonly byLinkPhone = new Map<string, Connection>();

  start(conn: Connection, data: proto.ClientPayload.IDevicePairingRegistrationData): void {
    const refs = Array.from({ length: PAIRING_REF_COUNT }, () => `2@${randomBytes(24).toString('base64url')}`);
    conn.pairing = { refs, data };
    conn.state = 'pairing';
    for (const ref of refs) this.byRef.set(ref, conn);
    conn.request(
      {
        tag: 'iq',
        attrs: { id: conn.nextId(), type: 'set', xmlns: 'md', from: SERVER_JID },
        content: [
          {
            tag: 'pair-device',
            attrs: {},
            content: refs.map((ref) => ({ tag: 'ref', attrs: {}, content: Buffer.from(ref) })),
          },
        ],
      },
      () => undefined,
    );
    conn.log.info('pairing started: waiting for a QR scan or a pairing code');
  }

  /** The phone scans a QR string shown by the client. */
  scanQr(qr: string, phone: string | undefined): ScanResult {
    // Baileys 7 prefixes the QR with a wa.me deep link: `https://wa.me/settings/linked_devices#ref,...`.
    const [ref, noiseB64, identityB64, advB64] = qr.slice(qr.lastIndexOf('#') + 1).split(',');
    const conn = ref === undefined ? undefined : this.byRef.get(ref);
    if (!conn?.pairing || conn.state !== 'pairing')
      throw new SimulatorError('unknown_ref', 'no connection is showing this QR');
    if (!noiseB64 || !identityB64 || !advB64)
      throw new SimulatorError('bad_request', 'QR must be ref,noiseKey,identityKey,advSecret,platform');
    const identity = Buffer.from(identityB64, 'base64');
    if (
      !conn.clientStatic?.equals(Buffer.from(noiseB64, 'base64')) ||
      !identity.equals(Buffer.from(conn.pairing.data.eIdent ?? []))
    ) {
      throw new SimulatorError('bad_request', 'QR keys do not match the connection that shows it');
    }
    return this.complete(conn, this.phoneOr(phone), Buffer.from(advB64, 'base64'));
  }

  /** The user types the code shown by the client into the phone. */
  async enterCode(phone: string, code: string): Promise<ScanResult> {
    const conn = this.byLinkPhone.get(phone);
    const link = conn?.pairing?.linkCode;
    if (!conn || !link) throw new SimulatorError('not_found', `no client asked for a pairing code for ${phone}`);
    const wrapped = link.wrappedCompanionEphemeral;
    const companionEphemeral = await unwrapCompanionEphemeral(code, wrapped);
    link.primaryEphemeral = Curve.generateKeyPair();
    link.companionEphemeral = companionEphemeral;
    const primaryWrapped = await wrapPrimaryEphemeral(code, link.primaryEphemeral.public);
    const account = conn.ctx.accounts.get(phone) ?? conn.ctx.accounts.register(phone);
    link.ref = randomBytes(16).toString('base64url');
    conn.send({
      tag: 'notification',
      attrs: {
        from: SERVER_JID,
        type: 'link_code_companion_reg',
        id: conn.nextId(),
        t: String(Math.floor(Date.now() / 1000)),
      },
      content: [
        {
          tag: 'link_code_companion_reg',
          attrs: {},
          content: [
            { tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(link.ref) },
            { tag: 'primary_identity_pub', attrs: {}, content: account.accountKey.public },
            { tag: 'link_code_pairing_wrapped_primary_ephemeral_pub', attrs: {}, content: primaryWrapped },
          ],
        },
      ],
    });
    return { connectionId: conn.id, phone };
  }

  /** `xmlns=md` IQs from a client: pairing-code stages. */
  onMdIq(conn: Connection, iq: BinaryNode): void {
    const reg = getBinaryNodeChild(iq, 'link_code_companion_reg');
    if (!reg || !conn.pairing) {
      conn.send(result(iq));
      return;
    }
    const stage = reg.attrs.stage;
    if (stage === 'companion_hello') {
      const phone = parseJid(reg.attrs.jid)?.user;
      const wrapped = bytesOf(getBinaryNodeChild(reg, 'link_code_pairing_wrapped_companion_ephemeral_pub'));
      if (!phone || !PHONE_PATTERN.test(phone) || wrapped?.length !== WRAPPED_KEY_BYTES) {
        conn.send(iqError(iq, 400, 'bad-request'));
        return;
      }
      conn.pairing.linkCode = { phone, wrappedCompanionEphemeral: wrapped };
      this.byLinkPhone.set(phone, conn);
      conn.send(
        result(iq, [
          {
            tag: 'link_code_companion_reg',
            attrs: {},
            content: [{ tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(phone) }],
          },
        ]),
      );
      conn.log.info('pairing code requested: waiting for the code to be entered');
      return;
    }
    if (stage === 'companion_finish') {
      this.finishLinkCode(conn, iq, reg);
      return;
    }
    conn.send(result(iq));
  }

  forget(conn: Connection): void {
    if (!conn.pairing) return;
    for (const ref of conn.pairing.refs) this.byRef.delete(ref);
    const phone = conn.pairing.linkCode?.phone;
    if (phone !== undefined && this.byLinkPhone.get(phone) === conn) this.byLinkPhone.delete(phone);
  }

  private finishLinkCode(conn: Connection, iq: BinaryNode, reg: BinaryNode): void {
    const link = conn.pairing?.linkCode;
    const bundle = bytesOf(getBinaryNodeChild(reg, 'link_code_pairing_wrapped_key_bundle'));
    const companionIdentity = bytesOf(getBinaryNodeChild(reg, 'companion_identity_public'));
    if (
      !link?.primaryEphemeral ||
      !link.companionEphemeral ||
      !bundle ||
      companionIdentity?.length !== PUBLIC_KEY_BYTES
    ) {
      conn.send(iqError(iq, 400, 'bad-request'));
      return;
    }
    const account = conn.ctx.accounts.get(link.phone);
    if (!account) {
      conn.send(iqError(iq, 404, 'item-not-found'));
      return;
    }
    try {
      const advSecret = linkCodeAdvSecret(
        link.primaryEphemeral,
        link.companionEphemeral,
        bundle,
        account.accountKey,
        companionIdentity,
      );
      conn.send(result(iq));
      this.complete(conn, link.phone, advSecret);
    } catch {
      // A wrong code decrypts the ephemeral key to garbage, so the bundle fails to decrypt.
      conn.log.warn('pairing code did not match');
      conn.send(iqError(iq, 401, 'not-authorized'));
    }
  }

  private phoneOr(phone: string | undefined): string {
    if (phone === undefined) return '';
    if (!PHONE_PATTERN.test(phone)) throw new SimulatorError('bad_request', '`phone` must be 5–15 digits');
    return phone;
  }

  /** Sends pair-success; on the client's pair-device-sign, registers the device and asks
   * for the restart (515). */
  private complete(conn: Connection, requestedPhone: string, advSecret: Buffer): ScanResult {
    const pairing = conn.pairing;
    const data = pairing?.data;
    const identityKey = Buffer.from(data?.eIdent ?? []);
    const { ctx } = conn;
    const phone = requestedPhone || ctx.accounts.allocatePhone();
    const existing = ctx.accounts.get(phone);
    // A pairing-code account was created at the code stage; a QR pairing makes a new device.
    const account = existing && pairing?.linkCode && !existing.noiseKey ? existing : ctx.accounts.register(phone);
    const identity = signDeviceIdentity(account.accountKey, identityKey);
    this.forget(conn);
    conn.request(
      {
        tag: 'iq',
        attrs: {
          id: conn.nextId(),
          type: 'set',
          xmlns: 'md',
          from: SERVER_JID,
          t: String(Math.floor(Date.now() / 1000)),
        },
        content: [
          {
            tag: 'pair-success',
            attrs: {},
            content: [
              {
                tag: 'device-identity',
                attrs: { 'key-index': String(COMPANION_KEY_INDEX) },
                content: encodeDeviceIdentityHmac(identity, advSecret),
              },
              { tag: 'platform', attrs: { name: PRIMARY_PLATFORM } },
              { tag: 'device', attrs: { jid: pnJid(phone, account.device), lid: lidJid(account.lid, account.device) } },
            ],
          },
        ],
      },
      (reply) => {
        if (reply.attrs.type !== 'result' || !getBinaryNodeChild(reply, 'pair-device-sign')) {
          conn.log.warn('client refused pair-success');
          conn.apply({ type: 'close' }, 'pairing refused');
          return;
        }
        account.noiseKey = conn.clientStatic;
        const bundle = bundleFrom(data);
        if (bundle) account.bundle = bundle;
        conn.log.info({ account: phone, device: account.device }, 'device paired');
        conn.apply({ type: 'stream-error', code: RESTART_REQUIRED }, 'restart after pairing');
      },
    );
    return { connectionId: conn.id, phone };
  }
}

/** The registration data carries the device's signed prekey: enough for inbound sessions. */
function bundleFrom(data: proto.ClientPayload.IDevicePairingRegistrationData | undefined): DeviceBundle | undefined {
  if (!data?.eRegid || !data.eIdent || !data.eSkeyId || !data.eSkeyVal || !data.eSkeySig) return undefined;
  const reg = Buffer.from(data.eRegid);
  const skeyId = Buffer.from(data.eSkeyId);
  return {
    registrationId: reg.readUIntBE(0, reg.length),
    identityKey: Buffer.from(data.eIdent),
    signedPreKey: {
      keyId: skeyId.readUIntBE(0, skeyId.length),
      publicKey: Buffer.from(data.eSkeyVal),
      signature: Buffer.from(data.eSkeySig),
    },
    preKeys: [],
    preKeyCount: 0,
  };
}
