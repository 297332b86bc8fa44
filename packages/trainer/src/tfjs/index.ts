export { BACKEND_PREFERENCE, type BackendChoice, type BackendName, parseBackendName, selectBackend } from './backend.ts';
export { conv2dFilterGradient, registerConvGradient, unregisterConvGradient } from './conv-gradient.ts';
export { isRelu, LayerDiagnostics, sparsityOf } from './diagnostics.ts';
export { type CachedFeatures, FeatureStore } from './feature-store.ts';
export { buildSmallCnn, freezeLayers, HEAD_LAYER, replaceHead, splitAtFrozenPrefix, weightedLayers } from './model.ts';
export { fileSystemIO, loadModelFromDir, saveModelToDir } from './model-io.ts';
export { buildOptimizer, learningRateAt, setLearningRate } from './optimizer.ts';
export { resolveTrainingParams, type TrainingParams } from './params.ts';
export {
  BUILTIN_MODELS,
  type BuiltinModel,
  builtinBackboneDir,
  builtinModelDir,
  builtinModelPath,
  isBuiltinModel,
  pretrainBackbone,
  type PretrainOptions,
} from './pretrain.ts';
export {
  buildTrialModel,
  DEFAULT_DATASET,
  DEFAULT_MODEL,
  TfjsRunner,
  type TfjsRunnerOptions,
  tfjsRunnerOptions,
  tfjsRunnerPlugin,
} from './runner.ts';
export { type TrialSettings, trainTrial } from './trial.ts';
export * from '../data/index.ts';
