/** The NATS contract of wa-connd: subjects, events, commands, replies, errors. */
export * from './errors.js';
export * from './states.js';
export * from './subjects.js';
export * from './jid.js';
export * from './fields.js';
export * from './events.js';
export * from './msg-id.js';
export * from './fence.js';
export * from './content.js';
export * from './message-events.js';
export * from './commands.js';
export * from './replies.js';
export * from './webhooks.js';
export * from './owner-events.js';
export * from './retention.js';
export * from './groups.js';
