// Public entry: startSimulator(options) starts the WebSocket endpoint and the control API and
// returns their URLs, the root public key to trust, the controls (in-process), and close().
import pino from 'pino';
import { makeServerIdentity } from './protocol/certificate.js';
import { AccountRegistry } from './accounts/account.js';
import { ContactDirectory } from './signal/contacts.js';
import { Ledger } from './ledger/ledger.js';
import { FaultBook } from './faults/faults.js';
import { SessionRegistry } from './session/session-registry.js';
import { Pairing } from './session/pairing.js';
import { InboundDelivery } from './session/delivery.js';
import type { SimulatorContext } from './session/context.js';
import { listenWs } from './server.js';
import { listenHttp } from './control/http-api.js';
import { makeControls, type SimulatorControls } from './simulator.js';
import { DEFAULT_HOST, DEFAULT_TIME_SCALE, type SimulatorOptions } from './options.js';
import { SimulatorError } from './errors.js';
import { MediaStore } from './media/store.js';
import { makeSimulatorTls } from './media/tls-cert.js';
import { listenMedia } from './media/http.js';

export interface RunningSimulator extends SimulatorControls {
  /** Give this to Baileys as `waWebSocketUrl`. */
  wsUrl: string;
  /** Control API base URL. */
  httpUrl: string;
  /** Media host (`https://host:port`): uploads and downloads; announced by `media_conn`. */
  mediaUrl: string;
  /** The media host's self-signed certificate (PEM): a client that uploads or downloads
   * media must trust it (see docs/simulator.md, "Media over https"). */
  caPem: string;
  /** Base64 of the certificate root public key (32 bytes): set
   * `WA_CERT_DETAILS.PUBLIC_KEY` to it in the client process to trust this simulator. */
  rootPublicKey: string;
  rootPublicKeyBytes: Buffer;
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const timeScale = options.timeScale ?? DEFAULT_TIME_SCALE;
  if (!(timeScale > 0)) throw new SimulatorError('bad_request', 'timeScale must be > 0');
  const logger = options.logger ?? pino({ level: 'silent' });
  const host = options.host ?? DEFAULT_HOST;
  const identity = makeServerIdentity(options.seed);
  const tls = makeSimulatorTls([host]);
  const store = new MediaStore();
  const faults = new FaultBook();
  const uploadFault = (account: string): number | undefined => faults.effective(account).rejectUploads?.status;
  const media = await listenMedia(store, tls, { uploadFault }, host, options.mediaPort ?? 0, logger);
  const ctx = {
    identity,
    accounts: new AccountRegistry(),
    contacts: new ContactDirectory(),
    ledger: new Ledger(),
    faults,
    sessions: new SessionRegistry(),
    pairing: new Pairing(),
    logger,
    timeScale,
    unknownAccounts: options.unknownAccounts ?? 'register',
    media: { store, tls, hostname: media.hostname, url: media.url },
  } as Omit<SimulatorContext, 'delivery'> as SimulatorContext;
  ctx.delivery = new InboundDelivery(ctx);
  const controls = makeControls(ctx);
  const rootPublicKey = Buffer.from(identity.root.public).toString('base64');
  const ws = await listenWs(ctx, host, options.wsPort ?? 0).catch(async (err: unknown) => {
    await media.close();
    throw err;
  });
  const http = await listenHttp(
    controls,
    rootPublicKey,
    { url: media.url, caPem: tls.certPem },
    host,
    options.httpPort ?? 0,
    logger,
  ).catch(async (err: unknown) => {
    await Promise.all([ws.close(), media.close()]);
    throw err;
  });
  logger.info({ ws: ws.url, http: http.url, media: media.url }, 'simulator listening');
  return {
    ...controls,
    wsUrl: ws.url,
    httpUrl: http.url,
    mediaUrl: media.url,
    caPem: tls.certPem,
    rootPublicKey,
    rootPublicKeyBytes: Buffer.from(identity.root.public),
    close: async () => {
      await Promise.all([ws.close(), http.close(), media.close()]);
      logger.info('simulator closed');
    },
  };
}

export type { SimulatorOptions } from './options.js';
export type { SimulatorControls, AccountInfo } from './simulator.js';
export type {
  FaultAction,
  FaultConditions,
  IdleTimeoutPolicy,
  RecyclePolicy,
  ReceiptBehaviour,
  TrafficKind,
} from './faults/faults.js';
export type { LedgerEntry, LedgerQuery } from './ledger/ledger.js';
export type { ProvisionedAccount, ProvisionOptions } from './accounts/provision.js';
export type { InboundRequest, InboundResult } from './session/delivery.js';
export type { InboundMedia } from './session/inbound-content.js';
export type { ContentFields, MediaType } from './ledger/content.js';
export type { Direction, MediaCheck } from './ledger/ledger.js';
export type { UploadRecord } from './media/store.js';
export type { SessionInfo } from './session/session-registry.js';
export { SimulatorError, type SimulatorErrorCode } from './errors.js';
export { toBufferJson } from './simulator.js';
