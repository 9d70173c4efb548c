import { ProtoMessage } from './protobuf.js';

/**
 * Builders for the ONNX messages a converted model uses, with field numbers from onnx.proto
 * (ONNX IR version 8). Only float32 and int64 tensors are written.
 */

/** IR version matching opset 13 onwards (ONNX 1.10+). */
export const ONNX_IR_VERSION = 8;

/** Opset of the default domain: Clip takes min/max as inputs, Pad takes pads as an input. */
export const ONNX_OPSET = 13;

/** TensorProto.DataType values. */
const FLOAT = 1;
const INT64 = 7;

/** AttributeProto.AttributeType values. */
const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_STRING = 3;
const ATTRIBUTE_INTS = 7;

/** An attribute value: a number is an INT, `{ float }` a FLOAT, an array INTS. */
export type AttributeValue = number | string | readonly number[] | { float: number };

/** One operator of the graph. */
export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: Record<string, AttributeValue>;
}

/** A constant of the graph: weights, shapes, clip bounds. */
export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

/** A graph input or output: float32; a `null` first dimension is the symbolic `batch`. */
export interface OnnxValue {
  name: string;
  shape: readonly (number | null)[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxInitializer[];
  inputs: readonly OnnxValue[];
  outputs: readonly OnnxValue[];
}

/**
 * Encodes a whole model (ModelProto) as the bytes of an `.onnx` file.
 *
 * @example
 * const bytes = encodeModel({ name: 'g', nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
 *   initializers: [], inputs: [{ name: 'x', shape: [null, 4] }], outputs: [{ name: 'y', shape: [null, 4] }] });
 */
export function encodeModel(graph: OnnxGraph, producer = 'bloodcell'): Uint8Array {
  const opset = new ProtoMessage().string(1, '').int(2, ONNX_OPSET);
  return new ProtoMessage()
    .int(1, ONNX_IR_VERSION)
    .string(2, producer)
    .message(7, graphMessage(graph))
    .message(8, opset)
    .encode();
}

function graphMessage(graph: OnnxGraph): ProtoMessage {
  const message = new ProtoMessage();
  for (const node of graph.nodes) message.message(1, nodeMessage(node));
  message.string(2, graph.name);
  for (const initializer of graph.initializers) message.message(5, tensorMessage(initializer));
  for (const input of graph.inputs) message.message(11, valueMessage(input));
  for (const output of graph.outputs) message.message(12, valueMessage(output));
  return message;
}

function nodeMessage(node: OnnxNode): ProtoMessage {
  const message = new ProtoMessage();
  for (const input of node.inputs) message.string(1, input);
  for (const output of node.outputs) message.string(2, output);
  if (node.name) message.string(3, node.name);
  message.string(4, node.op);
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    message.message(5, attributeMessage(name, value));
  }
  return message;
}

function attributeMessage(name: string, value: AttributeValue): ProtoMessage {
  const message = new ProtoMessage().string(1, name);
  if (typeof value === 'string') return message.string(4, value).int(20, ATTRIBUTE_STRING);
  if (typeof value === 'number') return message.int(3, value).int(20, ATTRIBUTE_INT);
  if ('float' in value) return message.float(2, value.float).int(20, ATTRIBUTE_FLOAT);
  // onnx.proto is proto2: repeated scalars are written unpacked, one tag each.
  for (const item of value) message.int(8, item);
  return message.int(20, ATTRIBUTE_INTS);
}

function tensorMessage(tensor: OnnxInitializer): ProtoMessage {
  const message = new ProtoMessage();
  for (const dim of tensor.dims) message.int(1, dim);
  message.int(2, tensor.data instanceof Float32Array ? FLOAT : INT64);
  message.string(8, tensor.name);
  // raw_data is little-endian, which every platform Node runs on is.
  return message.bytes(9, new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
}

function valueMessage(value: OnnxValue): ProtoMessage {
  const shape = new ProtoMessage();
  value.shape.forEach((dim, i) => {
    const symbol = i === 0 ? 'batch' : `dim${i}`;
    shape.message(1, dim === null ? new ProtoMessage().string(2, symbol) : new ProtoMessage().int(1, dim));
  });
  const tensorType = new ProtoMessage().int(1, FLOAT).message(2, shape);
  return new ProtoMessage().string(1, value.name).message(2, new ProtoMessage().message(1, tensorType));
}
