import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

/**
 * An IOHandler for a directory holding `model.json` plus its weight files — the layout tfjs-node
 * and the tensorflowjs converter write. Pure tfjs cannot load `file://` URLs (it tries fetch and
 * fails with a misleading "fetch failed"), hence this.
 */
export function fileSystemIO(dir: string): tf.io.IOHandler {
  const modelPath = path.join(dir, 'model.json');
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      let text: string;
      try {
        text = await readFile(modelPath, 'utf8');
      } catch (error) {
        throw new Error(`cannot read model ${modelPath}: ${(error as Error).message}`);
      }
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(text) as tf.io.ModelJSON;
      } catch (error) {
        throw new Error(`model ${modelPath} is not valid JSON: ${(error as Error).message}`);
      }
      if (!json.modelTopology) throw new Error(`model ${modelPath} has no modelTopology`);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const file of group.paths) {
            const bytes = await readFile(path.join(dir, file)).catch((error: Error) => {
              throw new Error(`cannot read weight file ${file} listed in ${modelPath}: ${error.message}`);
            });
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          }
        }
        const specs = manifest.flatMap((group) => group.weights);
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },

    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('saving binary (graph-model) topologies is not supported');
      await mkdir(dir, { recursive: true });
      const weightsFile = 'weights.bin';
      const weightData = artifacts.weightData
        ? tf.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer | ArrayBuffer[])
        : new ArrayBuffer(0);
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
      // Write beside and rename, so a concurrent reader never sees half a model.
      await writeFile(path.join(dir, `${weightsFile}.tmp`), new Uint8Array(weightData));
      await writeFile(`${modelPath}.tmp`, JSON.stringify(json));
      await rename(path.join(dir, `${weightsFile}.tmp`), path.join(dir, weightsFile));
      await rename(`${modelPath}.tmp`, modelPath);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: JSON.stringify(json.modelTopology).length,
          weightSpecsBytes: JSON.stringify(json.weightsManifest).length,
          weightDataBytes: weightData.byteLength,
        },
      };
    },
  };
}

export async function loadModelFromDir(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileSystemIO(dir));
}

export async function saveModelToDir(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(fileSystemIO(dir));
}
