/**
 * The few protobuf wire-format pieces an ONNX file needs: varints, 32-bit floats and
 * length-delimited fields. A message is built bottom-up as a list of byte chunks, so large weight
 * buffers are referenced, never copied, until `encode` joins them once.
 */

/** Protobuf wire types used by ONNX's messages. */
const VARINT = 0;
const FIXED32 = 5;
const LENGTH_DELIMITED = 2;

const textEncoder = new TextEncoder();

/** An encoded protobuf message, kept as chunks until written out. */
export class ProtoMessage {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  /** Bytes this message takes once encoded. */
  get byteLength(): number {
    return this.size;
  }

  /**
   * Appends an integer field (int32, int64 or enum); negative values take ten bytes, as in protobuf.
   *
   * @example
   * new ProtoMessage().int(1, 8); // ir_version = 8
   */
  int(field: number, value: number): this {
    this.push(varint((field << 3) | VARINT));
    return this.push(varint(value));
  }

  /**
   * Appends a 32-bit float field.
   *
   * @example
   * new ProtoMessage().float(2, 0.001); // AttributeProto.f
   */
  float(field: number, value: number): this {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.push(varint((field << 3) | FIXED32));
    return this.push(bytes);
  }

  /**
   * Appends a UTF-8 string field.
   *
   * @example
   * new ProtoMessage().string(4, 'Conv'); // NodeProto.op_type
   */
  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  /**
   * Appends a bytes field without copying them.
   *
   * @example
   * new ProtoMessage().bytes(9, new Uint8Array(weights.buffer)); // TensorProto.raw_data
   */
  bytes(field: number, value: Uint8Array): this {
    this.push(varint((field << 3) | LENGTH_DELIMITED));
    this.push(varint(value.byteLength));
    return this.push(value);
  }

  /**
   * Appends an embedded message field.
   *
   * @example
   * graph.message(1, node); // GraphProto.node
   */
  message(field: number, value: ProtoMessage): this {
    this.push(varint((field << 3) | LENGTH_DELIMITED));
    this.push(varint(value.size));
    for (const chunk of value.chunks) this.push(chunk);
    return this;
  }

  /**
   * Joins the chunks into the message's bytes.
   *
   * @example
   * const bytes = new ProtoMessage().int(1, 150).encode(); // 08 96 01
   */
  encode(): Uint8Array {
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }

  private push(chunk: Uint8Array): this {
    this.chunks.push(chunk);
    this.size += chunk.byteLength;
    return this;
  }
}

/**
 * A base-128 varint; negative numbers as their 64-bit two's complement (ten bytes).
 *
 * @example
 * varint(300); // Uint8Array [0xac, 0x02]
 */
export function varint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value)) throw new RangeError(`varint needs a safe integer, got ${value}`);
  let rest = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Uint8Array.from(bytes);
}
