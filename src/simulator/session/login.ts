// What the server does with the ClientPayload of the Noise finish: a registered device
// (`username` + `device`) logs in and gets `<success lid>`; a new device
// (`devicePairingData`) starts QR pairing. Refusals are `<failure reason>`, which Baileys
// turns into that DisconnectReason (401 = logged out).
import type { proto } from '../wa.js';
import { lidJid } from '../accounts/jids.js';
import type { Connection } from './connection.js';

/** `<failure reason>` codes we use: 401 = not (or no longer) a registered device. */
const FAILURE_LOGGED_OUT = 401;
const FAILURE_BAD_REQUEST = 400;

export function login(conn: Connection, payload: proto.ClientPayload): void {
  const { ctx } = conn;
  if (payload.username !== null && payload.username !== undefined) {
    const phone = String(payload.username);
    const device = payload.device ?? 0;
    const faults = ctx.faults.effective(phone);
    if (faults.loginFailure) {
      conn.apply({ type: 'failure', reason: faults.loginFailure.reason }, 'login-failure fault');
      return;
    }
    let account = ctx.accounts.get(phone);
    if (!account && ctx.unknownAccounts === 'register') {
      // Lenient mode: a device the simulator never saw (e.g. after a simulator restart) is
      // accepted and learns its keys from the prekey upload that follows.
      account = ctx.accounts.register(phone, { device });
      conn.log.info({ account: phone, device }, 'registered unknown device on login');
    }
    if (!account || account.device !== device) {
      conn.apply({ type: 'failure', reason: FAILURE_LOGGED_OUT }, 'unknown device');
      return;
    }
    if (account.noiseKey && conn.clientStatic && !account.noiseKey.equals(conn.clientStatic)) {
      conn.apply({ type: 'failure', reason: FAILURE_LOGGED_OUT }, 'noise key does not match the registered device');
      return;
    }
    account.noiseKey ??= conn.clientStatic;
    conn.bindAccount(account);
    // The account's own primary phone is a contact too (its device 0 gets a copy of every
    // send), and a send to a LID addresses it by the account's LID: make that resolvable.
    ctx.contacts.know(account.phone);
    // A silenced account's login is swallowed: the socket stays open, nothing comes back.
    if (conn.silenced) {
      conn.loggedIn();
      return;
    }
    conn.send({
      tag: 'success',
      attrs: {
        t: String(Math.floor(Date.now() / 1000)),
        lid: lidJid(account.lid, account.device),
        location: 'sim',
        creation: String(Math.floor(account.createdAt / 1000)),
      },
    });
    conn.loggedIn();
    conn.log.info({ device }, 'logged in');
    return;
  }
  if (payload.devicePairingData) {
    ctx.pairing.start(conn, payload.devicePairingData);
    return;
  }
  conn.apply({ type: 'failure', reason: FAILURE_BAD_REQUEST }, 'client payload has neither username nor pairing data');
}
