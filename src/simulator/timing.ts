// Every timing the simulator uses, named, with why that value. Policy timers (idle timeout,
// recycle) are divided by the `timeScale` option; protocol timers below are not, because they
// model the real server's fixed behaviour that clients are tuned against.

/** Baileys' connectTimeoutMs default is 20 s: a peer that has not finished the Noise
 * handshake by then is not a real client, so its socket is closed. */
export const HANDSHAKE_DEADLINE_MS = 20_000;

/** After `<stream:error>` or `<failure>` the real server closes the socket itself; a short
 * grace lets the client read the reason first (otherwise it would see a bare close → 428). */
export const CLOSE_AFTER_ERROR_GRACE_MS = 50;

/** Default delivery receipt delay after the server ack: loopback-fast unless a test asks. */
export const DEFAULT_DELIVERY_RECEIPT_DELAY_MS = 0;

/** Default read receipt delay after the delivery receipt (only when read receipts are on). */
export const DEFAULT_READ_RECEIPT_DELAY_MS = 0;

/** QR refs sent in `<pair-device>`: Baileys shows one QR per ref (60 s, then 20 s each) and
 * ends with 408 when they run out; six refs is what the real server sends. */
export const PAIRING_REF_COUNT = 6;

/** The field report's server dropped idle sessions every ~16 min (see
 * /work/shared/context/field-report-408-loop.txt): the default idle-timeout period. */
export const FIELD_REPORT_IDLE_TIMEOUT_MS = 16 * 60_000;

/** Smallest policy timer after scaling: keeps a tiny timeScale from spinning on 0 ms timers. */
export const MIN_SCALED_TIMER_MS = 5;
