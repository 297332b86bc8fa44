export { buildArgv, flagsFor, formatValue, placeholdersIn, substitutePlaceholders } from './argv.ts';
export { checkCommandSpec, commandSpecWarnings } from './check-spec.ts';
export { GpuSlots, listGpus, phantomGpuWarning, resolveGpus } from './gpus.ts';
export { claimGpus, type GpuClaims, gpuClaimsDir } from './gpu-claims.ts';
export { type CommandOptions, commandOptionsSchema, parseCommandOptions } from './options.ts';
export { commandRunnerPlugin } from './plugin.ts';
export { PROTOCOL_VERSION, parseReportLine, quoteNonFiniteTokens } from './report-line.ts';
export { CommandRoutingRunner } from './routing.ts';
export { CommandRunner, type CommandRunnerOptions, type Placement, STDOUT_PREFIX } from './runner.ts';
