import { busContractSuite } from '../../testing/bus-suite.ts';
import { natsBuses } from './test-env.ts';

busContractSuite('NatsBus', () => natsBuses({ maxDeliver: 3 }));
