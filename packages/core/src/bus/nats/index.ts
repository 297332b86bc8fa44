/**
 * The Bus over NATS JetStream, behind its own subpath (@sweepd/core/nats) so that code on the local
 * bus never loads the NATS client.
 *
 * Streams, per prefix P (default 'sweepd'):
 * - P_JOBS (work queue) on P.jobs.<pool>.<trial>: one message per pending trial; a pool's workers
 *   share the durable pull consumer P_jobs_<pool>. ackWaitMs without an ack or a heartbeat means the
 *   worker died: the job goes to another worker; past maxDeliver deliveries the trial is reported failed.
 *   A worker that shuts down hands its job back as a new message (with the deliveries so far in
 *   priorAttempts), which spends no delivery, and reports the hand-back.
 * - P_REPORTS (work queue) on P.reports.<trial>: read by the daemon's durable consumer P_reports,
 *   which is recreated when the daemon starts so what a crashed daemon left unacknowledged comes
 *   first, in order.
 * - P_STOPS (latest per trial, kept stopRetentionMs) on P.stops.<trial>.
 * - P_DAEMON (latest only, kept a minute) on P.daemon: the heartbeat of the daemon reading the
 *   reports; a second daemon on the prefix is refused (daemon-presence.ts).
 *
 * Outages: the client reconnects forever; publishes, acknowledgements and stop look-ups retry until
 * publishTimeoutMs (60 s by default; sweepd worker sets 10 minutes) and then reject; consumers
 * resume by themselves, and a job consumer whose server lost its storage creates it again.
 */
export { connectNatsBus, NatsBus, type NatsBusOptions } from './bus.ts';
export { BusNames } from './names.ts';
export { redactServers } from './redact.ts';
