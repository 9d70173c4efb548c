import type { ModelSummary, RequestLimits } from '../api/model.js';
import type { ImageOutcome } from '../report/index.js';

/** Files per request: small enough for steady progress, large enough to batch on the server. */
const FILES_PER_REQUEST = 16;
const RETRIES_WHEN_BUSY = 3;

/**
 * The model's description from GET /api/v1/model.
 *
 * @example
 * const { validation, limits } = await fetchModelSummary();
 */
export async function fetchModelSummary(): Promise<ModelSummary> {
  const response = await fetch('/api/v1/model');
  if (!response.ok) throw new Error(`GET /api/v1/model answered ${response.status}`);
  return (await response.json()) as ModelSummary;
}

/**
 * Classifies files on the server in requests sized to its limits, retrying when it is busy. Each
 * file gets an outcome, in order, whatever happens to its request. `explain` asks for each
 * result's activation map (?explain=1).
 *
 * @example
 * const outcomes = await classifyOnServer(files, summary.limits, showProgress, { explain: true });
 */
export async function classifyOnServer(
  files: readonly File[],
  limits: RequestLimits,
  onProgress: (done: number) => void = () => {},
  options: { explain?: boolean } = {},
): Promise<ImageOutcome[]> {
  const outcomes: ImageOutcome[] = [];
  const url = options.explain ? '/api/v1/classify?explain=1' : '/api/v1/classify';
  for (const group of requestGroups(files, limits)) {
    outcomes.push(...(await classifyGroup(url, group, limits)));
    onProgress(outcomes.length);
  }
  return outcomes;
}

/**
 * A small PNG of an image the browser cannot show itself (TIFF), made by the server.
 *
 * @example
 * const png = await fetchPreview(tiffFile); // undefined if the server refused it
 */
export async function fetchPreview(file: File): Promise<Blob | undefined> {
  const response = await fetch('/api/v1/preview', {
    method: 'POST',
    body: file,
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  return response.ok ? response.blob() : undefined;
}

/** Splits files into requests under both the file-count and the body-size limits. */
function requestGroups(files: readonly File[], limits: RequestLimits): File[][] {
  const maxFiles = Math.max(1, Math.min(FILES_PER_REQUEST, limits.maxFiles));
  // Leaves room for the multipart headers around each file.
  const maxBytes = limits.maxBodyBytes - 64 * 1024;
  const groups: File[][] = [];
  let current: File[] = [];
  let bytes = 0;
  for (const file of files) {
    if (current.length === maxFiles || (current.length > 0 && bytes + file.size > maxBytes)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += file.size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

async function classifyGroup(url: string, files: File[], limits: RequestLimits): Promise<ImageOutcome[]> {
  const tooLarge = files.length === 1 && files[0]!.size > limits.maxBodyBytes;
  if (tooLarge) {
    const message = `The file is over the server's limit of ${limits.maxBodyBytes} bytes: downscale it, or use privacy mode.`;
    return [{ file: files[0]!.name, error: { code: 'PAYLOAD_TOO_LARGE', message } }];
  }

  for (let attempt = 0; ; attempt++) {
    const body = new FormData();
    files.forEach((file) => body.append('images', file, file.name));
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', body });
    } catch {
      return failAll(files, 'NETWORK_ERROR', 'The server could not be reached; check that it is running.');
    }

    if (response.status === 503 && attempt < RETRIES_WHEN_BUSY) {
      const seconds = Number(response.headers.get('retry-after')) || 2;
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      continue;
    }
    const json = (await response.json().catch(() => ({}))) as {
      results?: ImageOutcome[];
      error?: { code: string; message: string };
    };
    if (response.ok && json.results) return json.results;
    const error = json.error ?? { code: 'HTTP_ERROR', message: `The server answered ${response.status}.` };
    return failAll(files, error.code, error.message);
  }
}

function failAll(files: File[], code: string, message: string): ImageOutcome[] {
  return files.map((file) => ({ file: file.name, error: { code, message } }));
}
