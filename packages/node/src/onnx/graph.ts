import type { AttributeValue, OnnxGraph, OnnxInitializer, OnnxNode, OnnxValue } from './schema.js';

/**
 * How a Keras tensor is held in the ONNX graph: images run channels-first (`nchw`, what ONNX's
 * Conv and pools take), feature vectors are `flat` [n, c].
 */
export type Layout = 'nchw' | 'flat';

/** A convolution not yet written, so a following BatchNormalization can fold into it. */
export interface PendingConv {
  input: string;
  /** [out, in / group, kh, kw] */
  weight: Float32Array;
  weightDims: readonly number[];
  bias: Float32Array;
  attributes: Record<string, AttributeValue>;
  /** ONNX activation op after the convolution, if any (`Relu`, `Clip6`, ...). */
  activation?: string;
}

/** A Keras tensor: written, or a zero padding or convolution still open to fusing. */
export type KerasValue =
  | { kind: 'tensor'; name: string; layout: Layout }
  | { kind: 'pad'; source: KerasValue; pads: readonly number[]; name: string }
  | { kind: 'conv'; conv: PendingConv; name: string; consumers: number };

/** Accumulates nodes and initializers, naming every tensor uniquely. */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private readonly used = new Set<string>();
  private readonly written = new Map<KerasValue, string>();

  /** A tensor name not used before, derived from `base`. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Keeps names (the graph's outputs) from being given to any other tensor. */
  reserve(names: readonly string[]): void {
    for (const name of names) this.used.add(name);
  }

  /** Adds a node; returns its output's name, `output` made unique unless `exact`. */
  node(
    op: string,
    inputs: readonly string[],
    output: string,
    attributes?: Record<string, AttributeValue>,
    exact = false,
  ): string {
    const name = exact ? output : this.fresh(output);
    this.nodes.push({ op, inputs, outputs: [name], name, attributes });
    return name;
  }

  /** Adds a constant; returns its name. */
  constant(base: string, dims: readonly number[], data: Float32Array | BigInt64Array): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims, data });
    return name;
  }

  /**
   * The ONNX name of a Keras tensor, writing a pending padding or convolution first.
   * Written once: a value used by two layers shares one node.
   */
  materialise(value: KerasValue): string {
    if (value.kind === 'tensor') return value.name;
    const done = this.written.get(value);
    if (done) return done;

    let name: string;
    if (value.kind === 'pad') {
      const [top, left, bottom, right] = value.pads;
      const pads = BigInt64Array.from([0, 0, top!, left!, 0, 0, bottom!, right!].map(BigInt));
      name = this.node('Pad', [this.materialise(value.source), this.constant(`${value.name}/pads`, [8], pads)], value.name);
    } else {
      name = this.writeConv(value.conv, value.name);
    }
    this.written.set(value, name);
    return name;
  }

  /** Applies an activation by its ONNX name (`Clip6` for ReLU6); returns the output name. */
  activate(activation: string | undefined, input: string, output: string, axis = 1): string {
    if (activation === undefined) return input;
    if (activation === 'Clip6') return this.clip(input, output, 6);
    if (activation === 'Softmax') return this.node('Softmax', [input], output, { axis });
    return this.node(activation, [input], output);
  }

  /** Clips to [0, max]: Keras's ReLU with max_value. */
  clip(input: string, output: string, max: number): string {
    const low = this.constant(`${output}/min`, [], Float32Array.of(0));
    const high = this.constant(`${output}/max`, [], Float32Array.of(max));
    return this.node('Clip', [input, low, high], output);
  }

  /** The finished graph. */
  graph(name: string, inputs: readonly OnnxValue[], outputs: readonly OnnxValue[]): OnnxGraph {
    return { name, nodes: this.nodes, initializers: this.initializers, inputs, outputs };
  }

  private writeConv(conv: PendingConv, name: string): string {
    const weight = this.constant(`${name}/W`, conv.weightDims, conv.weight);
    const bias = this.constant(`${name}/B`, [conv.bias.length], conv.bias);
    const output = conv.activation ? `${name}/conv` : name;
    const convolved = this.node('Conv', [conv.input, weight, bias], output, conv.attributes);
    return this.activate(conv.activation, convolved, name);
  }
}

/** The layout of a value as it will be written. */
export function layoutOf(value: KerasValue): Layout {
  if (value.kind === 'tensor') return value.layout;
  return 'nchw';
}
