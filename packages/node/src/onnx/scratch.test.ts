import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { it, expect } from 'vitest';
import { vgg16 } from '@bloodcell/core';
import { loadClassifier } from '../bundle-store/index.js';
import { layersModelToOnnx } from './index.js';

it('scratch', async () => {
  await tf.setBackend('cpu');
  const clf = await loadClassifier('/tmp/bloodcell-test-bundles/8c1fbe26b2b01543/model');
  let t = performance.now();
  const bytes = layersModelToOnnx(clf.model, { outputNames: ['probabilities'], pooledOutputs: [{ name: 'pooled', layer: 'out_relu' }] });
  console.log('convert ms', performance.now() - t, bytes.length);
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  console.log(session.inputNames, session.outputNames);
  const x = tf.randomUniform([8, 224, 224, 3], -1, 1, 'float32', 3);
  const ref = clf.model.predict(x) as tf.Tensor;
  const refPooled = tf.mean(clf.extractor.backbone.predict(x) as tf.Tensor, [1, 2]);
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', x.dataSync() as Float32Array, [8, 224, 224, 3]) };
  const out = await session.run(feeds);
  const p = out.probabilities!.data as Float32Array; const r = ref.dataSync();
  let maxd = 0; for (let i = 0; i < r.length; i++) maxd = Math.max(maxd, Math.abs(p[i]! - r[i]!));
  const q = out.pooled!.data as Float32Array; const rq = refPooled.dataSync();
  let maxq = 0; for (let i = 0; i < rq.length; i++) maxq = Math.max(maxq, Math.abs(q[i]! - rq[i]!));
  console.log('max diff probs', maxd, 'pooled', maxq, Array.from(r.slice(0, 4)), Array.from(p.slice(0, 4)));
  for (const bs of [1, 8]) {
    const f = { [session.inputNames[0]!]: new ort.Tensor('float32', x.dataSync().slice(0, bs * 224 * 224 * 3) as Float32Array, [bs, 224, 224, 3]) };
    await session.run(f);
    t = performance.now(); for (let i = 0; i < 5; i++) await session.run(f);
    console.log('mobilenet bs', bs, 'ms/img', (performance.now() - t) / 5 / bs);
  }
  const v = vgg16();
  const vb = layersModelToOnnx(v);
  const vs = await ort.InferenceSession.create(vb, { intraOpNumThreads: 2, interOpNumThreads: 1 });
  const x1 = tf.randomUniform([1, 224, 224, 3], -100, 100, 'float32', 4);
  const vr = (v.predict(x1) as tf.Tensor).dataSync();
  const vf = { [vs.inputNames[0]!]: new ort.Tensor('float32', x1.dataSync() as Float32Array, [1, 224, 224, 3]) };
  const vo = (await vs.run(vf))[vs.outputNames[0]!]!.data as Float32Array;
  let maxv = 0, maxr = 0; for (let i = 0; i < vr.length; i++) { maxv = Math.max(maxv, Math.abs(vo[i]! - vr[i]!)); maxr = Math.max(maxr, Math.abs(vr[i]!)); }
  console.log('vgg max diff', maxv, 'of', maxr, vs.outputNames);
  t = performance.now(); for (let i = 0; i < 3; i++) await vs.run(vf);
  console.log('vgg ms/img', (performance.now() - t) / 3);
  expect(maxd).toBeLessThan(1e-4);
}, 600_000);
