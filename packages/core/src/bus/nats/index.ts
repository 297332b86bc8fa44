// The NATS JetStream bus, behind its own subpath (@sweepd/core/nats) so that code on the local bus never loads the NATS client.
export { connectNatsBus, NatsBus, type NatsBusOptions } from './bus.ts';
export { BusNames } from './names.ts';
