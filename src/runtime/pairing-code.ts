/**
 * Pairing with a code instead of a QR: `pair(phone)` waits here for the code that the
 * account's next socket asks WhatsApp for once it is up and unpaired.
 */
import type { Logger } from 'pino';
import type { BaileysConnection } from '../baileys/connection.js';
import { WaError } from '../contract/index.js';
import type { Clock } from './clock.js';

/** How long `pair(phone)` waits for WhatsApp to issue a pairing code. */
const PAIRING_CODE_TIMEOUT_MS = 30_000;

export class PairingCode {
  private waiter: { resolve(code: string): void; reject(err: Error): void } | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** The code the next request gets, or `timeout` if none comes in time. */
  wait(): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const cancel = this.clock.after(PAIRING_CODE_TIMEOUT_MS, () => {
        this.waiter = null;
        reject(new WaError('timeout', 'WhatsApp issued no pairing code in time'));
      });
      this.waiter = {
        resolve: (c) => {
          cancel();
          resolve(c);
        },
        reject: (e) => {
          cancel();
          reject(e);
        },
      };
    });
  }

  /** The socket is up and unpaired: ask WhatsApp for the code; `issued` tells the machine. */
  async request(conn: BaileysConnection, phone: string, issued: () => void): Promise<void> {
    try {
      const code = await conn.requestPairingCode(phone);
      issued();
      this.waiter?.resolve(code);
    } catch (err) {
      this.log.warn({ err }, 'pairing code request failed');
      this.waiter?.reject(new WaError('unavailable', 'WhatsApp refused the pairing-code request', { cause: err }));
    } finally {
      this.waiter = null;
    }
  }
}
