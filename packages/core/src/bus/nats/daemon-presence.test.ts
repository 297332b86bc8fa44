import { jetstream } from '@nats-io/jetstream';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonConflictError } from './daemon-presence.ts';
import { type NatsBusesUnderTest, natsBuses } from './test-env.ts';

describe('one daemon per NATS prefix', () => {
  let env: NatsBusesUnderTest | undefined;
  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
  });

  it('refuses a second daemon while the first reads the reports, and lets the next start at once after it closes', async () => {
    // A heartbeat a second apart: one that waited for the last to go stale would wait 3 s.
    env = await natsBuses({ daemonHeartbeatMs: 1_000 });
    const first = await env.daemon.consumeReports(async () => {});
    const second = await env.worker({ daemonHeartbeatMs: 1_000 });
    const refused = await second.consumeReports(async () => {}).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DaemonConflictError);
    expect((refused as Error).message).toMatch(
      new RegExp(
        `^another sweepd daemon \\(.+:${process.pid}\\) is reading the reports of NATS prefix '${env.prefix}' on this server: .*SWEEPD_NATS_PREFIX`,
      ),
    );
    await first.close();
    const started = Date.now();
    const third = await second.consumeReports(async () => {});
    expect(Date.now() - started).toBeLessThan(2_500);
    await third.close();
  });

  it('takes over from a daemon that died elsewhere once its heartbeat stops coming', async () => {
    env = await natsBuses({ daemonHeartbeatMs: 200 });
    // A heartbeat left by a daemon on another host, which sends no more.
    await jetstream(env.daemon.connection).publish(`${env.prefix}.daemon`, JSON.stringify({ id: 'gone', host: 'elsewhere', pid: 1 }));
    const said: string[] = [];
    const daemon = await env.worker({ daemonHeartbeatMs: 200, log: (m) => said.push(m) });
    const sub = await daemon.consumeReports(async () => {});
    expect(said.join('\n')).toContain(`the daemon elsewhere:1 left a heartbeat but sends no more; taking over`);
    await sub.close();
  });

  it('starts at once after a daemon of this host died (kill -9), without taking its last heartbeat for a second daemon', async () => {
    // A heartbeat a second apart: one that waited for the dead one's to go stale would wait 3 s.
    env = await natsBuses({ daemonHeartbeatMs: 1_000 });
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid as number;
    await jetstream(env.daemon.connection).publish(`${env.prefix}.daemon`, JSON.stringify({ id: 'killed', host: hostname(), pid: dead }));
    const said: string[] = [];
    const errors: string[] = [];
    const daemon = await env.worker({ daemonHeartbeatMs: 1_000, log: (m) => said.push(m), logError: (m) => errors.push(m) });
    const started = Date.now();
    const sub = await daemon.consumeReports(async () => {});
    expect(Date.now() - started).toBeLessThan(2_500);
    await new Promise((r) => setTimeout(r, 2_500)); // a few heartbeats
    expect(errors).toEqual([]);
    expect(said.filter((m) => m.includes('another sweepd daemon'))).toEqual([]);
    await sub.close();
  });
});
