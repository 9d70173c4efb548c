export { type OnnxExportOptions, layersModelToOnnx } from './convert.js';
export { SUPPORTED_LAYERS } from './layers.js';
export { ONNX_IR_VERSION, ONNX_OPSET } from './schema.js';
