import { randomUUID } from 'node:crypto';
import { open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { BundleError } from '@bloodcell/core';
import type { Dataset, File as H5File, Group } from 'h5wasm/node';

/** Bytes every HDF5 file carries where its superblock starts. */
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Superblocks sit at 0 or, after a user block, at 512, 1024, 2048... bytes. */
const LAST_SIGNATURE_OFFSET = 1 << 20;

/** One layer of a Keras weights file: its group and the names of its weight datasets. */
export interface KerasH5Layer {
  name: string;
  weightNames: string[];
  /** The dataset of one weight, by its name in `weightNames`. */
  dataset(weightName: string): Dataset;
}

/** An opened Keras weights file; `close` must run once its datasets are read. */
export interface KerasH5File {
  /** Where the file came from, for error messages. */
  label: string;
  layers: KerasH5Layer[];
  close(): Promise<void>;
}

/**
 * Opens a Keras 2 HDF5 weights file (from `save_weights`, `model.save` or the applications'
 * `*_notop.h5`) and lists its layers in the file's order.
 *
 * @example
 * const h5 = await openKerasH5('vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5');
 * try { console.log(h5.layers.map((layer) => layer.name)); } finally { await h5.close(); }
 */
export async function openKerasH5(source: string | Uint8Array): Promise<KerasH5File> {
  // NODERAWFS maps h5wasm onto the host disk, so bytes in memory go through a temporary file.
  const scratch =
    typeof source === 'string' ? undefined : join(tmpdir(), `bloodcell-${randomUUID()}.h5`);
  const path = scratch ?? resolve(source as string);
  const label = scratch ? 'the HDF5 bytes given' : path;
  if (scratch) await writeFile(scratch, source as Uint8Array);

  try {
    await assertHdf5(path, label);
    const h5wasm = (await import('h5wasm/node')).default;
    await h5wasm.ready;

    const file = new h5wasm.File(path, 'r');
    if (file.file_id < 0n) {
      throw new BundleError('H5_UNREADABLE', `HDF5 could not open ${label} (see stderr).`);
    }
    const close = async (): Promise<void> => {
      file.close();
      if (scratch) await rm(scratch, { force: true });
    };
    try {
      return { label, layers: readLayers(file, h5wasm.Group, h5wasm.Dataset, label), close };
    } catch (error) {
      await close();
      throw error;
    }
  } catch (error) {
    if (scratch) await rm(scratch, { force: true });
    throw error;
  }
}

/** Fails with a clear error unless `path` exists and starts like an HDF5 file. */
async function assertHdf5(path: string, label: string): Promise<void> {
  const size = await stat(path).then(
    (info) => info.size,
    () => {
      throw new BundleError('H5_NOT_FOUND', `Keras weights file not found: ${label}.`);
    },
  );

  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(HDF5_SIGNATURE.length);
    for (let offset = 0; offset <= LAST_SIGNATURE_OFFSET; offset = Math.max(512, offset * 2)) {
      if (offset + head.length > size) break;
      await handle.read(head, 0, head.length, offset);
      if (head.equals(HDF5_SIGNATURE)) return;
    }
  } finally {
    await handle.close();
  }
  throw new BundleError(
    'H5_NOT_HDF5',
    `${label} is not an HDF5 file (no HDF5 signature). Pass a Keras .h5 weights file such as ` +
      'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5, or a TF.js export as { tfjsModelDir }.',
  );
}

/** Reads the layer table, at the root (weights files) or under /model_weights (full models). */
function readLayers(
  file: H5File,
  GroupClass: typeof Group,
  DatasetClass: typeof Dataset,
  label: string,
): KerasH5Layer[] {
  const modelWeights = file.get('model_weights');
  const root = modelWeights instanceof GroupClass ? modelWeights : file;
  const layerNames = readStringsAttribute(root, 'layer_names');
  if (!layerNames) {
    // TODO (issue 4): Keras 3 `.weights.h5` (layers/<name>/vars/<i>) is not read yet; none is needed so far.
    throw new BundleError(
      'H5_NOT_KERAS',
      `${label} is HDF5 but has no Keras 'layer_names' attribute at / or /model_weights: ` +
        'only Keras 2 .h5 files (save_weights, model.save, applications *_notop.h5) are read.',
    );
  }

  return layerNames.map((name) => {
    const group = root.get(name);
    if (!(group instanceof GroupClass)) {
      const problem = `${label} lists layer '${name}' but has no group for it.`;
      throw new BundleError('H5_CORRUPT', problem);
    }
    return {
      name,
      weightNames: readStringsAttribute(group, 'weight_names') ?? [],
      dataset(weightName: string): Dataset {
        const dataset = group.get(weightName);
        if (!(dataset instanceof DatasetClass)) {
          throw new BundleError(
            'H5_CORRUPT',
            `${label} lists weight '${weightName}' of layer '${name}' but has no dataset for it.`,
          );
        }
        return dataset;
      },
    };
  });
}

/**
 * A string-list attribute as Keras writes it: whole, or split into `name0`, `name1`... when
 * it outgrows HDF5's 64 KiB object header. Undefined when absent.
 */
function readStringsAttribute(group: Group, name: string): string[] | undefined {
  const attributes = group.attrs;
  const chunks = attributes[name]
    ? [attributes[name]]
    : Array.from({ length: Object.keys(attributes).length }, (_, i) => attributes[`${name}${i}`])
        .filter((chunk) => chunk !== undefined);
  if (chunks.length === 0) return undefined;

  return chunks.flatMap((chunk) => {
    const value = chunk.value;
    const items = Array.isArray(value) ? value : ArrayBuffer.isView(value) ? [] : [value];
    // h5py stores fixed-length bytes; strip the NUL padding some writers leave.
    return items.map((item) => String(item).replace(/\0+$/, ''));
  });
}
