import { strategyContractSuite } from '@sweepd/core/testing';
import { gpStrategy } from './gp.ts';
import { gridStrategy } from './grid.ts';
import { logGridStrategy } from './log-grid.ts';
import { randomStrategy } from './random.ts';
import { tpeStrategy } from './tpe.ts';

strategyContractSuite('random', randomStrategy, { options: { seed: 3 } });
strategyContractSuite('grid', gridStrategy, { options: { points: 3 } });
strategyContractSuite('log-grid', logGridStrategy);
strategyContractSuite('tpe', tpeStrategy, { options: { seed: 3 } });
strategyContractSuite('tpe univariate', tpeStrategy, { options: { seed: 3, multivariate: false } });
strategyContractSuite('gp', gpStrategy, { options: { seed: 3 } });
