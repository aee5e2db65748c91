/** Which events an endpoint gets: its `accounts` and `types` filters. */
import type { EventType, WaEvent, WebhookEndpointConfig } from '../contract/index.js';

/** Event types delivered when an endpoint names none: all but the webhook's own dead letters. */
export function wants(endpoint: Pick<WebhookEndpointConfig, 'accounts' | 'types'>, event: WaEvent): boolean {
  if (endpoint.accounts && !endpoint.accounts.includes(event.account)) return false;
  if (endpoint.types) return (endpoint.types as readonly EventType[]).includes(event.type);
  return event.type !== 'webhook.dead_lettered';
}
