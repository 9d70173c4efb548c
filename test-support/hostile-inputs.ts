import { crc32, deflateSync } from 'node:zlib';

import sharp from 'sharp';

/**
 * What bloodcell must answer for a hostile input: `classified` (a normal result) or the stable
 * error code, and the HTTP status the API gives when it is the only image of a request.
 */
export interface HostileExpectation {
  answer: 'classified' | 'NOT_AN_IMAGE' | 'UNSUPPORTED_IMAGE_TYPE' | 'IMAGE_TOO_LARGE';
  status: 200 | 400 | 413 | 415;
}

/** One file of the hostile corpus, generated in memory: nothing binary is committed. */
export interface HostileInput extends HostileExpectation {
  /** Stable id, used in test names and in docs/reliability.md. */
  id: string;
  /** The name the file is written or uploaded under. */
  fileName: string;
  bytes: Uint8Array;
}

/** Names that a careless echo would turn into a path, a new line, a terminal command or markup. */
export const HOSTILE_FILE_NAMES = [
  '../../etc/passwd.jpg',
  'a\u0007\n.jpg',
  '\u001b]0;owned\u0007\u001b[2J.jpg',
  '<img src=x onerror=alert(1)>.png',
  '=cmd|calc,"x".jpg',
] as const;

const SMEAR_WIDTH = 64;
const SMEAR_HEIGHT = 48;

/**
 * A small smear-like field (pale pink with a violet disc), so the good files have a cell to find.
 *
 * @example
 * const jpeg = await smearField().jpeg().toBuffer();
 */
export function smearField(width = SMEAR_WIDTH, height = SMEAR_HEIGHT): sharp.Sharp {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside =
        (x - width * 0.55) ** 2 + (y - height * 0.45) ** 2 < (Math.min(width, height) * 0.2) ** 2;
      data.set(inside ? [100, 50, 160] : [236, 200, 206 - ((x * 7 + y * 3) % 11)], (y * width + x) * 3);
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

/**
 * A good smear JPEG: the control every hostile request is followed by.
 *
 * @example
 * const good = await goodJpeg();
 */
export async function goodJpeg(): Promise<Uint8Array> {
  return new Uint8Array(await smearField().jpeg({ quality: 90 }).toBuffer());
}

/**
 * Every hostile input, with the answer bloodcell gives it (the same through the library, the
 * CLI and the API, except that the API maps codes to HTTP statuses).
 *
 * @example
 * for (const input of await hostileInputs()) await decodeImage(input.bytes).catch(() => {});
 */
export async function hostileInputs(): Promise<HostileInput[]> {
  const jpeg = await goodJpeg();
  const busy = await busyJpeg();
  const classified = { answer: 'classified', status: 200 } as const;
  const notAnImage = { answer: 'NOT_AN_IMAGE', status: 400 } as const;
  const unsupported = { answer: 'UNSUPPORTED_IMAGE_TYPE', status: 415 } as const;
  const tooLarge = { answer: 'IMAGE_TOO_LARGE', status: 413 } as const;
  const gif = await animatedGif();

  return [
    { id: 'empty', fileName: 'empty.jpeg', bytes: new Uint8Array(0), ...notAnImage },
    {
      id: 'truncated-jpeg',
      fileName: 'truncated.jpeg',
      bytes: busy.subarray(0, busy.length >> 1),
      ...notAnImage,
    },
    { id: 'corrupt-entropy-jpeg', fileName: 'corrupt-scan.jpeg', bytes: corruptScan(busy), ...notAnImage },
    { id: 'png-50000x50000', fileName: 'huge.png', bytes: pngDeclaring(50_000, 50_000), ...tooLarge },
    { id: 'bmp-100000x100000', fileName: 'huge.bmp', bytes: bmpDeclaring(100_000, 100_000), ...tooLarge },
    { id: 'one-pixel-png', fileName: 'dot.png', bytes: await encode(smearField(1, 1).png()), ...classified },
    {
      id: '16-bit-png',
      fileName: 'deep.png',
      bytes: await encode(smearField().toColourspace('rgb16').png()),
      ...classified,
    },
    {
      id: 'cmyk-jpeg',
      fileName: 'cmyk.jpeg',
      bytes: await encode(smearField().toColourspace('cmyk').jpeg()),
      ...classified,
    },
    {
      id: 'grayscale-jpeg',
      fileName: 'gray.jpeg',
      bytes: await encode(smearField().grayscale().jpeg()),
      ...classified,
    },
    { id: 'animated-gif', fileName: 'cells.gif', bytes: gif, ...unsupported },
    { id: 'svg-with-script', fileName: 'cell.svg', bytes: text(SVG_WITH_SCRIPT), ...unsupported },
    {
      id: 'text-named-jpg',
      fileName: 'notes.jpg',
      bytes: text('EOSINOPHIL,LYMPHOCYTE\nnot a picture\n'),
      ...notAnImage,
    },
    { id: 'html-named-png', fileName: 'page.png', bytes: text(HTML_WITH_SCRIPT), ...notAnImage },
    {
      id: 'jpeg+zip-polyglot',
      fileName: 'polyglot.jpg',
      bytes: concat(jpeg, zipHolding(jpeg.length)),
      ...classified,
    },
    {
      id: 'jpeg+html-polyglot',
      fileName: 'polyglot-html.jpg',
      bytes: concat(jpeg, text(HTML_WITH_SCRIPT)),
      ...classified,
    },
    { id: 'gifar', fileName: 'gifar.gif', bytes: concat(gif, zipHolding(gif.length)), ...unsupported },
  ];
}

const SVG_WITH_SCRIPT =
  '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48" onload="alert(1)">' +
  '<script>fetch("/api/v1/model").then(r => r.text()).then(alert)</script>' +
  '<circle cx="32" cy="24" r="10" fill="purple"/></svg>';

const HTML_WITH_SCRIPT = '<!doctype html><html><body><script>alert(document.cookie)</script></body></html>';

function text(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}

async function encode(image: sharp.Sharp): Promise<Uint8Array> {
  return new Uint8Array(await image.toBuffer());
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** A JPEG whose scan is full of detail, so cutting or corrupting it hits real entropy-coded data. */
async function busyJpeg(): Promise<Uint8Array> {
  const pixels = Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919 + (i >> 5) * 31) % 256);
  return encode(sharp(pixels, { raw: { width: 64, height: 64, channels: 3 } }).jpeg({ quality: 90 }));
}

/** Flips bytes of the entropy-coded segment after SOS (0xFFDA), leaving the headers intact. */
function corruptScan(jpeg: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(jpeg);
  const sos = bytes.findIndex((value, i) => value === 0xff && bytes[i + 1] === 0xda);
  const scanStart = sos + 2 + ((bytes[sos + 2]! << 8) | bytes[sos + 3]!);
  for (let i = scanStart + 16; i < bytes.length - 16; i += 7) {
    // Never write 0xFF: a new marker would end the scan instead of corrupting it.
    bytes[i] = (bytes[i]! ^ 0x5a) === 0xff ? 0x00 : bytes[i]! ^ 0x5a;
  }
  return bytes;
}

async function animatedGif(): Promise<Uint8Array> {
  const frame = (colour: string) =>
    sharp({ create: { width: 8, height: 8, channels: 3, background: colour } })
      .png()
      .toBuffer();
  const frames = [await frame('#a05070'), await frame('#3050a0')];
  return encode(sharp(frames, { join: { animated: true } }).gif({ loop: 0, delay: 100 }));
}

function pngChunk(type: string, body: Uint8Array): Buffer {
  const typeAndBody = Buffer.concat([Buffer.from(type, 'ascii'), body]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndBody));
  return Buffer.concat([length, typeAndBody, crc]);
}

/** A structurally valid PNG whose header claims width x height, with almost no pixel data. */
export function pngDeclaring(width: number, height: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return concat(
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(16))),
    pngChunk('IEND', new Uint8Array(0)),
  );
}

/** A 24-bit BMP header claiming width x height, followed by only a few pixels. */
function bmpDeclaring(width: number, height: number): Uint8Array {
  const bytes = Buffer.alloc(54 + 16);
  bytes.write('BM', 0, 'ascii');
  bytes.writeUInt32LE(bytes.length, 2);
  bytes.writeUInt32LE(54, 10);
  bytes.writeUInt32LE(40, 14);
  bytes.writeInt32LE(width, 18);
  bytes.writeInt32LE(height, 22);
  bytes.writeUInt16LE(1, 26);
  bytes.writeUInt16LE(24, 28);
  return new Uint8Array(bytes);
}

/**
 * A stored (uncompressed) ZIP holding one HTML file, with offsets counted from `offset` bytes
 * into the final file, as a polyglot's ZIP part has them.
 */
function zipHolding(offset: number): Uint8Array {
  const name = Buffer.from('index.html');
  const body = Buffer.from(HTML_WITH_SCRIPT);
  const crc = crc32(body);

  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(body.length, 18);
  local.writeUInt32LE(body.length, 22);
  local.writeUInt16LE(name.length, 26);

  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(body.length, 20);
  central.writeUInt32LE(body.length, 24);
  central.writeUInt16LE(name.length, 28);
  central.writeUInt32LE(offset, 42);

  const centralOffset = offset + local.length + name.length + body.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return concat(local, name, body, central, name, end);
}
