// The state every connection shares, passed in (never imported as a global), so several
// simulators can run in one process (tests do).
import type { Logger } from 'pino';
import type { AccountRegistry } from '../accounts/account.js';
import type { ContactDirectory } from '../signal/contacts.js';
import type { Ledger } from '../ledger/ledger.js';
import type { FaultBook } from '../faults/faults.js';
import type { ServerIdentity } from '../protocol/certificate.js';
import type { SessionRegistry } from './session-registry.js';
import type { Pairing } from './pairing.js';
import type { InboundDelivery } from './delivery.js';
import type { MediaService } from '../media/media-conn.js';

export type UnknownAccountPolicy = 'register' | 'reject';

export interface SimulatorContext {
  identity: ServerIdentity;
  accounts: AccountRegistry;
  contacts: ContactDirectory;
  ledger: Ledger;
  faults: FaultBook;
  sessions: SessionRegistry;
  pairing: Pairing;
  delivery: InboundDelivery;
  /** Media host (upload/download over https) and its blob store. */
  media: MediaService;
  logger: Logger;
  /** Multiplies policy timers (idle timeout, recycle): 0.002 turns 16 min into ~2 s. */
  timeScale: number;
  unknownAccounts: UnknownAccountPolicy;
}
