// `xmlns=encrypt`: prekey count, prekey upload, prekey bundle fetch, digest, rotate.
// Bundles handed out come from the contact identities the simulator generates; uploads from
// the client are kept (a few prekeys, see RETAINED_PREKEYS) to start inbound sessions.
import type { BinaryNode } from '../wa.js';
import { bytesOf, childrenOf, encodeBigEndian, getBinaryNodeChild, KEY_BUNDLE_TYPE, PUBLIC_KEY_BYTES } from '../wa.js';
import { RETAINED_PREKEYS, type DeviceBundle } from '../accounts/account.js';
import type { Connection } from './connection.js';
import { iqError, result } from './iq.js';

export async function handleEncryptIq(conn: Connection, iq: BinaryNode): Promise<void> {
  const first = childrenOf(iq)[0];
  const account = conn.account;
  if (iq.attrs.type === 'get' && first?.tag === 'count') {
    conn.send(result(iq, [{ tag: 'count', attrs: { value: String(account?.bundle?.preKeyCount ?? 0) } }]));
    return;
  }
  if (iq.attrs.type === 'get' && first?.tag === 'digest') {
    conn.send(result(iq, [{ tag: 'digest', attrs: {} }]));
    return;
  }
  if (iq.attrs.type === 'get' && first?.tag === 'key') {
    conn.send(result(iq, [{ tag: 'list', attrs: {}, content: bundlesFor(conn, childrenOf(first)) }]));
    return;
  }
  if (iq.attrs.type === 'set' && getBinaryNodeChild(iq, 'registration')) {
    if (!account) {
      conn.send(iqError(iq, 401, 'not-authorized'));
      return;
    }
    const bundle = parseUpload(iq, account.bundle);
    if (!bundle) {
      conn.send(iqError(iq, 400, 'bad-request'));
      return;
    }
    account.bundle = bundle;
    conn.log.debug({ preKeys: bundle.preKeyCount }, 'prekeys uploaded');
    conn.send(result(iq));
    return;
  }
  // rotate (signed prekey) and anything else: accepted.
  conn.send(result(iq));
}

function bundlesFor(conn: Connection, users: BinaryNode[]): BinaryNode[] {
  const out: BinaryNode[] = [];
  for (const user of users) {
    const jid = user.attrs.jid;
    const contact = conn.ctx.contacts.resolve(jid);
    if (!jid || !contact) continue;
    const store = contact.store();
    const preKey = store.issuePreKey();
    out.push({
      tag: 'user',
      attrs: { jid },
      content: [
        { tag: 'registration', attrs: {}, content: encodeBigEndian(store.registrationId) },
        { tag: 'type', attrs: {}, content: KEY_BUNDLE_TYPE },
        { tag: 'identity', attrs: {}, content: store.identity.pubKey.subarray(1) },
        {
          tag: 'skey',
          attrs: {},
          content: [
            { tag: 'id', attrs: {}, content: encodeBigEndian(store.signedPreKey.keyId, 3) },
            { tag: 'value', attrs: {}, content: store.signedPreKey.pair.pubKey.subarray(1) },
            { tag: 'signature', attrs: {}, content: store.signedPreKey.signature },
          ],
        },
        {
          tag: 'key',
          attrs: {},
          content: [
            { tag: 'id', attrs: {}, content: encodeBigEndian(preKey.keyId, 3) },
            { tag: 'value', attrs: {}, content: preKey.pair.pubKey.subarray(1) },
          ],
        },
      ],
    });
  }
  return out;
}

function parseUpload(iq: BinaryNode, previous: DeviceBundle | undefined): DeviceBundle | undefined {
  const registration = bytesOf(getBinaryNodeChild(iq, 'registration'));
  const identity = bytesOf(getBinaryNodeChild(iq, 'identity'));
  const skey = getBinaryNodeChild(iq, 'skey');
  const skeyId = bytesOf(getBinaryNodeChild(skey, 'id'));
  const skeyValue = bytesOf(getBinaryNodeChild(skey, 'value'));
  const skeySig = bytesOf(getBinaryNodeChild(skey, 'signature'));
  if (
    !registration?.length ||
    identity?.length !== PUBLIC_KEY_BYTES ||
    !skeyId?.length ||
    skeyValue?.length !== PUBLIC_KEY_BYTES ||
    !skeySig
  ) {
    return undefined;
  }
  const uploaded = childrenOf(getBinaryNodeChild(iq, 'list')).flatMap((key) => {
    const id = bytesOf(getBinaryNodeChild(key, 'id'));
    const value = bytesOf(getBinaryNodeChild(key, 'value'));
    return id?.length && value?.length === PUBLIC_KEY_BYTES
      ? [{ keyId: id.readUIntBE(0, id.length), publicKey: value }]
      : [];
  });
  const sameIdentity = previous?.identityKey.equals(identity) ?? false;
  const kept = sameIdentity ? (previous?.preKeys ?? []) : [];
  return {
    registrationId: registration.readUIntBE(0, Math.min(registration.length, 6)),
    identityKey: identity,
    signedPreKey: { keyId: skeyId.readUIntBE(0, skeyId.length), publicKey: skeyValue, signature: skeySig },
    preKeys: [...kept, ...uploaded].slice(0, RETAINED_PREKEYS),
    preKeyCount: (sameIdentity ? (previous?.preKeyCount ?? 0) : 0) + uploaded.length,
  };
}
