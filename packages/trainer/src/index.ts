import { type Plugin, registry } from '@sweepd/core';
import { commandRunnerPlugin } from './command/index.ts';
import { noopRunnerPlugin, simulateRunnerPlugin } from './simulate/index.ts';
import { checkTfjsSpec } from './tfjs/check-spec.ts';

/**
 * The tfjs runner, registered without loading tfjs: the daemon imports this package to know the
 * runner names, and only a trainer process that runs a tfjs trial pays for loading the engine.
 */
export const lazyTfjsRunnerPlugin: Plugin<'runner'> = {
  kind: 'runner',
  name: 'tfjs',
  description: 'fine-tunes a tfjs image classifier (backend chosen at run time)',
  parseOptions: (raw) => raw,
  checkSpec: checkTfjsSpec,
  async create(options, ctx) {
    const { tfjsRunnerPlugin } = await import('./tfjs/index.ts');
    return tfjsRunnerPlugin.create(tfjsRunnerPlugin.parseOptions(options), ctx);
  },
};

for (const plugin of [lazyTfjsRunnerPlugin, simulateRunnerPlugin, noopRunnerPlugin] as Plugin[]) registry.register(plugin);
registry.register(commandRunnerPlugin as Plugin);

export * from './command/index.ts';
export { type DatasetManifest, loadDiskDataset, readManifest, writeDiskDataset } from './data/disk.ts';
export { defaultCacheDir, PRETRAIN_USAGE, pretrainCommand } from './pretrain-command.ts';
export * from './process/pool.ts';
export { checkRequestedBackend, gpuTrainerDevices, visibleGpus } from './tfjs/gpu.ts';
export { noopRunnerPlugin, simulateRunnerPlugin } from './simulate/index.ts';
export * from './worker.ts';
