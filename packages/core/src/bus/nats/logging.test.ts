import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterEach, describe, expect, it } from 'vitest';
import { busSuiteJob as job, waitUntil } from '../../testing/bus-suite.ts';
import { type NatsBusesUnderTest, natsBuses } from './test-env.ts';

// What the bus cannot use or cannot do is told to its log, never dropped in silence.
describe('NatsBus logs what it drops', () => {
  let env: NatsBusesUnderTest | undefined;
  afterEach(async () => {
    await env?.cleanup();
    env = undefined;
  });

  it('logs a malformed stop message found before a job starts, and runs the job', async () => {
    env = await natsBuses();
    const logged: string[] = [];
    const worker = await env.worker({ log: (m) => logged.push(m) });
    // Not a stop this bus wrote (another tool, or a bad hand-made message).
    await jetstream(env.daemon.connection).publish(env.daemon.names.stopSubject('tr_m'), 'stop it please');
    const ran: string[] = [];
    await worker.consumeJobs({ pool: 'default', concurrency: 1 }, async (j) => {
      ran.push(j.trialId);
    });
    await env.daemon.dispatch([job('tr_m')]);
    await waitUntil(() => ran.length === 1, 'the job to run');
    expect(logged).toContainEqual(
      expect.stringMatching(/^ignoring a malformed stop message for trial tr_m \(stream sequence \d+\): "stop it please"$/),
    );
  });

  it("logs what holds the daemon's pull for reports back (its consumer deleted under it)", async () => {
    const logged: string[] = [];
    env = await natsBuses({ log: (m) => logged.push(m) });
    await env.daemon.consumeReports(async () => {});
    const { names } = env.daemon;
    await (await jetstreamManager(env.daemon.connection)).consumers.delete(names.reportsStream, names.reportsConsumer);
    await waitUntil(() => logged.some((m) => m.startsWith('pulling reports: {"type":"consumer_deleted"')), 'the pull trouble to be logged');
  });

  it('logs a failure while closing, and still closes', async () => {
    env = await natsBuses();
    const logged: string[] = [];
    const bus = await env.worker({ log: (m) => logged.push(m) });
    // Someone else began draining the connection: the bus's own drain is refused.
    // (That drain never settles once the bus has closed the connection under it.)
    void bus.connection.drain().catch(() => {});
    await bus.close();
    expect(bus.connection.isClosed()).toBe(true);
    expect(logged).toContainEqual(expect.stringMatching(/^draining the NATS connection failed, closing it: /));
  });
});
