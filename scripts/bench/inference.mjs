// Decoding, preprocessing, forward passes and end to end, per engine.
import { forwardFlops } from './flops.mjs';

const SIZE = 224;

/** Median of `runs` timed calls of `work`, in ms, after one untimed warm-up call unless `warm`. */
async function median(work, runs, warm = false) {
  if (!warm) await work();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function row(stage, model, engine, batch, msPerImage, flops = null) {
  return { stage, model, engine, batch, msPerImage, imagesPerSecond: 1000 / msPerImage, flopsPerImage: flops };
}

/** Rows for every stage and engine; `ctx` holds the loaded modules, the bundle and the files. */
export async function measureInference(ctx) {
  const { node, files, quick, log } = ctx;
  const rows = [];

  log('decoding');
  const sample = files.slice(0, quick ? 24 : 96);
  const started = performance.now();
  const images = [];
  for (const file of sample) images.push(await node.decodeImage(file));
  rows.push(row('decode', 'jpeg 320x240', 'sharp', 1, (performance.now() - started) / sample.length));

  for (const backend of ctx.tfjsBackends) rows.push(...(await tfjsRows(ctx, backend, images)));
  if (ctx.onnx) rows.push(...(await onnxRows(ctx, images)));
  return rows;
}

async function tfjsRows(ctx, backend, images) {
  const { node, core, tf, bundleDir, quick, log } = ctx;
  const slow = backend === 'cpu';
  const engine = `tfjs ${backend}`;
  const rows = [];
  await node.selectBackend({ prefer: backend });
  const classifier = await node.loadClassifier(bundleDir);
  const sample = images.slice(0, slow ? 6 : images.length);

  log(`${engine}: preprocessing`);
  rows.push(row('locate', 'mobilenet_v2', engine, 1, await perImage(sample, (image) => classifier.extractor.locate(image))));
  const prepare = async (image) => {
    const region = await classifier.extractor.locate(image);
    const input = classifier.extractor.input(image, region.box);
    await input.data();
    input.dispose();
  };
  rows.push(row('preprocess', 'mobilenet_v2', engine, 1, await perImage(sample, prepare)));

  const models = [['mobilenet_v2', classifier.model, -1, 1]];
  if (!(slow && quick)) models.push(['vgg16', core.vgg16(), -120, 150]);
  for (const [name, model, low, high] of models) {
    const flops = forwardFlops(model);
    for (const batch of [1, 8]) {
      if (name === 'vgg16' && (slow || quick) && batch === 8 && backend !== 'wasm') continue;
      log(`${engine}: ${name} forward, batch ${batch}`);
      const input = tf.randomUniform([batch, SIZE, SIZE, 3], low, high, 'float32', 1);
      const runs = name === 'vgg16' ? 1 : slow ? 2 : quick ? 5 : 20;
      const ms = await median(async () => {
        const output = model.predict(input);
        await output.data();
        output.dispose();
      }, runs, name === 'vgg16' && batch === 8);
      input.dispose();
      rows.push(row('inference', name, engine, batch, ms / batch, flops));
    }
    if (name === 'vgg16') model.dispose();
  }
  classifier.dispose();

  log(`${engine}: end to end`);
  const e2eFiles = ctx.files.slice(0, slow ? 16 : quick ? 96 : 400);
  const single = await node.openClassifier(bundleDir, { engine: 'tfjs', backend });
  rows.push(row('end to end', 'mobilenet_v2', engine, 8, await endToEnd(node, single, e2eFiles)));
  await single.close();
  if (backend === 'wasm' && ctx.cores > 1) {
    const pool = await node.openClassifier(bundleDir, { engine: 'tfjs', backend, workers: ctx.cores });
    rows.push(row('end to end', 'mobilenet_v2', `${engine} x${ctx.cores} workers`, 8, await endToEnd(node, pool, e2eFiles)));
    await pool.close();
  }
  return rows;
}

async function onnxRows(ctx, images) {
  const { node, core, bundleDir, quick, log, ort } = ctx;
  const rows = [];
  await node.selectBackend({ prefer: 'cpu' });
  const classifier = await node.loadClassifier(bundleDir);
  const { inputSize, scaling } = classifier.metadata.backbone;

  log('onnx: preprocessing');
  const prepare = async (image) => {
    const region = await classifier.extractor.locate(image);
    node.writeBackboneInput({ ...image, channels: 3 }, region.box, inputSize, scaling, new Float32Array(SIZE * SIZE * 3), 0);
  };
  rows.push(row('preprocess', 'mobilenet_v2', 'onnx (js crop)', 1, await perImage(images, prepare)));

  const bundleBytes = node.layersModelToOnnx(classifier.model, {
    outputNames: ['probabilities'],
    pooledOutputs: [{ name: 'pooled', layer: classifier.metadata.backbone.outputLayer }],
  });
  const vgg = core.vgg16();
  const models = [
    ['mobilenet_v2', bundleBytes, forwardFlops(classifier.model), 1],
    ['vgg16', node.layersModelToOnnx(vgg), forwardFlops(vgg), 150],
  ];
  vgg.dispose();
  classifier.dispose();
  const threadChoices = [...new Set([ctx.cores, 1])];
  for (const [name, bytes, flops, range] of models) {
    for (const threads of threadChoices) {
      const session = await ort.InferenceSession.create(bytes, node.sessionOptions(threads));
      const engine = threads === ctx.cores ? 'onnx' : `onnx ${threads} thread`;
      for (const batch of threads === ctx.cores ? [1, 8] : [8]) {
        log(`${engine}: ${name} forward, batch ${batch}`);
        const data = Float32Array.from({ length: batch * SIZE * SIZE * 3 }, (_, i) => (((i * 7919) % 255) / 255 - 0.5) * 2 * range);
        const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [batch, SIZE, SIZE, 3]) };
        const runs = name === 'vgg16' ? (batch === 8 ? 1 : 3) : quick ? 10 : 40;
        const ms = await median(() => session.run(feeds), runs, name === 'vgg16' && batch === 8);
        rows.push(row('inference', name, engine, batch, ms / batch, flops));
      }
      await session.release();
    }
  }

  // Alternating thread counts, best of two each, so drifting load from other jobs hits both alike.
  const e2eFiles = ctx.files.slice(0, quick ? 192 : 800);
  const best = new Map();
  for (let attempt = 0; attempt < 2; attempt++) {
    for (const threads of threadChoices) {
      log(`onnx: end to end, ${threads} ONNX Runtime thread(s)`);
      const fast = await node.openClassifier(bundleDir, { engine: 'onnx', threads });
      const ms = await endToEnd(node, fast, e2eFiles);
      best.set(threads, Math.min(best.get(threads) ?? Infinity, ms));
      await fast.close();
    }
  }
  for (const [threads, ms] of best) {
    const label = `${threads === ctx.cores ? 'onnx' : `onnx ${threads} thread`}${threads === ctx.cores ? ' (default)' : ''}`;
    rows.push(row('end to end', 'mobilenet_v2', label, 8, ms));
  }
  return rows;
}

async function perImage(images, work) {
  await work(images[0]);
  const started = performance.now();
  for (const image of images) await work(image);
  return (performance.now() - started) / images.length;
}

/**
 * ms per image from JPEG file to label, as the CLI runs: batches of 8, two in flight so decoding
 * overlaps inference. One untimed batch first.
 */
export async function endToEnd(node, classifier, files) {
  const run = async (batch) => classifier.classifyBatch(await Promise.all(batch.map((file) => node.decodeImage(file))));
  await run(files.slice(0, 8));
  const started = performance.now();
  const inFlight = [];
  let labelled = 0;
  for (let start = 0; start < files.length; start += 8) {
    inFlight.push(run(files.slice(start, start + 8)));
    if (inFlight.length >= 2) labelled += (await inFlight.shift()).length;
  }
  for (const batch of inFlight) labelled += (await batch).length;
  return (performance.now() - started) / labelled;
}
