import { busContractSuite } from '../testing/bus-suite.ts';
import { LocalBus } from './local.ts';

// One instance is both the daemon and every worker, as in the embedded daemon.
busContractSuite('LocalBus', async () => {
  const bus = new LocalBus({ maxDeliver: 3, retryDelayMs: 20 });
  return { daemon: bus, worker: async () => bus, cleanup: () => bus.close() };
});
