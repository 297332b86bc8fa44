/**
 * NATS server URLs for messages and logs, credentials masked: a password, and a user with no
 * password (in nats://tok3n@host the user part is a token).
 */
export function redactServers(servers: string | readonly string[]): string {
  const list = typeof servers === 'string' ? servers.split(',') : servers;
  return list.map((s) => redactServer(s.trim())).join(',');
}

function redactServer(url: string): string {
  const at = url.lastIndexOf('@');
  if (at < 0) return url;
  const scheme = url.indexOf('://');
  const start = scheme >= 0 && scheme < at ? scheme + 3 : 0;
  const credentials = url.slice(start, at);
  const colon = credentials.indexOf(':');
  const masked = colon >= 0 ? `${credentials.slice(0, colon)}:***` : '***';
  return `${url.slice(0, start)}${masked}${url.slice(at)}`;
}
