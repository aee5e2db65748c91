/**
 * `wa-connd/client`: a typed client for the wa-connd NATS API.
 *
 *   const wa = await connectWaClient({ servers: 'nats://127.0.0.1:4222' });
 *   await wa.send('default', { id: 'order-4711', to: '+4915123456789', text: 'shipped' });
 *   const media = await wa.putMedia('parcel.jpg', bytes, { mimetype: 'image/jpeg' });
 *   await wa.send('default', { to: '+4915123456789', kind: 'image', media, caption: 'your parcel' });
 *   for await (const { event } of wa.events({ account: 'default', type: 'send.acked' })) …
 *
 * Errors are `WaError`s (re-exported here) with the contract's codes.
 */
export {
  connectWaClient,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type WaClient,
  type WaClientOptions,
  type SendInput,
  type AddAccountInput,
} from './client.js';
export { type EventFeed, type EventsOptions, type StreamEvent } from './events.js';
export { WaTransportError, isTransportError, type TransportFailure } from './errors.js';
export {
  WaError,
  hasErrorCode,
  isWaError,
  WA_ERROR_CODES,
  EVENT_TYPES,
  ACCOUNT_STATES,
  type WaErrorCode,
  type WaEvent,
  type EventType,
  type EventOf,
  type AccountState,
  type KeepaliveStrategy,
  type OkReplyOf,
  type SendKind,
  type SendContentInput,
  type MediaSource,
  SEND_KINDS,
  MEDIA_BUCKET,
} from '../contract/index.js';
