// Floating-point operations of one forward pass, counted from the layer shapes.

/**
 * 2 x multiply-adds of every Conv2D, DepthwiseConv2D and Dense layer (nested models included);
 * activations, normalisation and pooling are left out (under 1% for these models).
 */
export function forwardFlops(model) {
  let flops = 0;
  for (const layer of model.layers) {
    if (Array.isArray(layer.layers)) {
      flops += forwardFlops(layer);
      continue;
    }
    const kernel = layer.weights.find((w) => /(depthwise_)?kernel$/.test(w.originalName));
    if (!kernel) continue;
    const out = layer.outputShape;
    const k = kernel.shape;
    const className = layer.getClassName();
    if (className === 'Conv2D') flops += 2 * out[1] * out[2] * k[0] * k[1] * k[2] * k[3];
    else if (className === 'DepthwiseConv2D') flops += 2 * out[1] * out[2] * k[0] * k[1] * k[2] * k[3];
    else if (className === 'Dense') flops += 2 * k[0] * k[1];
  }
  return flops;
}
