import { describe, expect, it } from 'vitest';
import { redactServers } from './redact.ts';

describe('redactServers', () => {
  it('masks passwords and tokens, keeps users, hosts and plain URLs', () => {
    expect(redactServers('nats://user:pw@127.0.0.1:4222')).toBe('nats://user:***@127.0.0.1:4222');
    expect(redactServers('nats://tok3n@127.0.0.1:4222')).toBe('nats://***@127.0.0.1:4222');
    expect(redactServers('nats://127.0.0.1:4222')).toBe('nats://127.0.0.1:4222');
    expect(redactServers(['nats://a:b@h1:4222', 'nats://h2:4222'])).toBe('nats://a:***@h1:4222,nats://h2:4222');
    expect(redactServers('nats://u:p@ss@h:1,tls://t@h2')).toBe('nats://u:***@h:1,tls://***@h2');
  });
});
