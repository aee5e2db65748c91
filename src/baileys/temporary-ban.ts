/**
 * A temporary ban as WhatsApp announces it at login: `<failure reason="402" code="…"
 * expire="…"/>`. Baileys ends the socket with statusCode 402 and the failure's attributes
 * as the error's `data` (Socket/socket.js, `CB:failure`) but reads neither; whatsmeow
 * reads `expire` as the seconds until the ban ends and `code` as its reason
 * (events.TemporaryBan). The machine waits that long (machines/account/ban.ts).
 */
const TEMPORARY_BAN = 402;

export function temporaryBan(
  statusCode: number | undefined,
  failure: Record<string, string> | undefined,
): { retryAfterMs?: number; banCode?: number } {
  if (statusCode !== TEMPORARY_BAN || !failure) return {};
  const expire = Number(failure.expire);
  const code = Number(failure.code);
  return {
    ...(failure.expire !== undefined && Number.isFinite(expire) && expire >= 0 ? { retryAfterMs: expire * 1000 } : {}),
    ...(failure.code !== undefined && Number.isInteger(code) ? { banCode: code } : {}),
  };
}
