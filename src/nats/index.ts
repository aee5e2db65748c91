/** The NATS side of wa-connd: event stream, projections, command service. */
export { startNatsLayer, type NatsLayer, type NatsLayerOptions, RECORD_TIMEOUT_MS, CALL_TIMEOUT_MS } from './layer.js';
export { EventPublisher, type PublisherOptions, type PublishTicket, PUBLISHER_DEFAULTS } from './event-publisher.js';
export { EventCounters, registerEventMetrics, type DropReason } from './counters.js';
export { Projection, evolve, emptyView, type AccountView, type QueuedSend, type SendRecord } from './projection.js';
export { readEvents, type ReadStats } from './event-reader.js';
export { FencedWriter, FencedError, isFenced, WRONG_LAST_SEQUENCE } from './fenced-writer.js';
export { OfflineBuffer } from './offline-buffer.js';
export { startCommandService, type AccountAdmin } from './command-service.js';
export { Sends } from './sends.js';
export { Deadlines } from './deadlines.js';
export { ensureStream, streamConfig, checkServerVersion, DEFAULT_STREAM_SETTINGS, type StreamSettings } from './stream.js';
