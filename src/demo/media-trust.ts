/**
 * The demo's simulator serves media over https with a certificate it made itself
 * (docs/simulator.md, "Media over https"). The demo — and only the demo — adds that one
 * certificate to this process's trusted CAs (Node ≥ 24.5), keeping the system ones and
 * verification on, so Baileys can upload images to it and download them from it.
 */
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import type { Logger } from 'pino';

export function trustSimulatorMedia(caPem: string, logger: Logger): void {
  const current = getCACertificates('default');
  if (current.includes(caPem)) return;
  setDefaultCACertificates([...current, caPem]);
  logger.warn("demo: this process now trusts the simulator's self-signed media certificate");
}
