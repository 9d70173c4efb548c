import type { ModelSummary } from '../api/model.js';
import { type ImageOutcome, differential, isCellResult, toCsv } from '../report/index.js';
import { openBitmapOrNothing } from './decode.js';
import type { BrowserClassifier } from './privacy.js';
import { drawThumbnail, renderDifferential, renderModelInfo, renderOutcome } from './render.js';
import { classifyOnServer, fetchModelSummary, fetchPreview } from './server-client.js';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const page = {
  input: byId<HTMLInputElement>('files'),
  dropZone: byId<HTMLElement>('drop-zone'),
  privacy: byId<HTMLInputElement>('privacy-mode'),
  explain: byId<HTMLInputElement>('explain-mode'),
  status: byId<HTMLElement>('status'),
  results: byId<HTMLOListElement>('results'),
  noResults: byId<HTMLElement>('no-results'),
  summary: byId<HTMLElement>('summary'),
  modelInfo: byId<HTMLElement>('model-info'),
};

/** Where the "show what the model looked at" choice is remembered between visits. */
const EXPLAIN_KEY = 'bloodcell.showWhatTheModelSaw';

const state = {
  outcomes: [] as ImageOutcome[],
  model: undefined as ModelSummary | undefined,
  browser: undefined as Promise<BrowserClassifier> | undefined,
  // Uploads run one after another, so results keep the order they were chosen in.
  work: Promise.resolve(),
};

function say(message: string, kind: 'info' | 'error' = 'info'): void {
  page.status.textContent = message;
  page.status.classList.toggle('error', kind === 'error');
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

async function classify(files: File[]): Promise<void> {
  const model = state.model ?? (state.model = await fetchModelSummary());
  const inBrowser = page.privacy.checked;
  const explain = page.explain.checked;
  const where = inBrowser ? 'in this browser' : 'on the server';
  say(`Classifying ${plural(files.length, 'image')} ${where}…`);
  const progress = (done: number) => say(`Classified ${done} of ${files.length} ${where}…`);

  let outcomes: ImageOutcome[];
  if (inBrowser) {
    const { classifier } = await loadBrowserModel(model);
    const { classifyInBrowser } = await import('./privacy.js');
    outcomes = await classifyInBrowser(classifier, files, progress, { explain });
  } else {
    outcomes = await classifyOnServer(files, model.limits, progress, { explain });
  }

  await Promise.all(outcomes.map((outcome, i) => show(outcome, files[i]!, inBrowser, model)));
  state.outcomes.push(...outcomes);
  renderDifferential(page.summary, differential(state.outcomes));
  const failed = outcomes.filter((outcome) => !isCellResult(outcome)).length;
  const review = outcomes.filter((outcome) => isCellResult(outcome) && outcome.referForReview).length;
  say(
    `Classified ${plural(outcomes.length - failed, 'image')} ${where}` +
      (review ? `; ${review} referred for review` : '') +
      (failed ? `; ${failed} could not be classified` : '') +
      '.',
    failed === outcomes.length ? 'error' : 'info',
  );
}

async function show(outcome: ImageOutcome, file: File, inBrowser: boolean, model: ModelSummary): Promise<void> {
  const { item, canvas } = renderOutcome(outcome, inBrowser ? 'browser' : 'server', model.calibration.reviewThreshold);
  page.results.append(item);
  page.noResults.hidden = true;
  if (!canvas || !isCellResult(outcome)) return;

  let picture = await openBitmapOrNothing(file);
  if (!picture && !inBrowser) {
    // Browsers cannot show TIFF; the server already has the image, so it may make a preview.
    const preview = await fetchPreview(file);
    picture = preview ? await openBitmapOrNothing(preview) : undefined;
  }
  drawThumbnail(canvas, picture, outcome.image, outcome.box, outcome.activation);
  picture?.close();
}

function loadBrowserModel(model: ModelSummary): Promise<BrowserClassifier> {
  if (!model.browserModel) throw new Error('This server does not offer the model for in-browser use.');
  state.browser ??= import('./privacy.js').then(({ loadBrowserClassifier }) => loadBrowserClassifier(model.browserModel!));
  return state.browser;
}

async function togglePrivacy(): Promise<void> {
  if (!page.privacy.checked) {
    say('Privacy mode off: images are sent to this server to be classified.');
    return;
  }
  page.privacy.disabled = true;
  say('Loading the model into this browser…');
  try {
    const model = state.model ?? (state.model = await fetchModelSummary());
    const { backend } = await loadBrowserModel(model);
    say(`Privacy mode on: images are classified in this browser (TF.js ${backend}) and never uploaded.`);
  } catch (error) {
    state.browser = undefined;
    page.privacy.checked = false;
    say(`Privacy mode is unavailable: ${error instanceof Error ? error.message : String(error)}`, 'error');
  } finally {
    page.privacy.disabled = false;
    page.privacy.focus();
  }
}

function toggleExplain(): void {
  const on = page.explain.checked;
  remember(EXPLAIN_KEY, on ? '1' : '0');
  page.results.classList.toggle('hide-heat-maps', !on);
  say(
    on
      ? 'Heat maps on: images classified from now on show where the model found evidence for its answer.'
      : 'Heat maps off.',
  );
}

function remember(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Storage can be switched off or full; the choice then lasts only for this visit.
  }
}

function recall(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function enqueue(files: File[]): void {
  if (files.length === 0) return;
  state.work = state.work
    .then(() => classify(files))
    .catch((error: unknown) => say(`Classification failed: ${error instanceof Error ? error.message : String(error)}`, 'error'));
}

function downloadCsv(): void {
  const url = URL.createObjectURL(new Blob([toCsv(state.outcomes)], { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = 'bloodcell-results.csv';
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function clearResults(): void {
  state.outcomes = [];
  page.results.replaceChildren();
  page.noResults.hidden = false;
  renderDifferential(page.summary, differential([]));
  say('Results cleared.');
  page.input.focus();
}

function wire(): void {
  page.input.addEventListener('change', () => {
    enqueue(Array.from(page.input.files ?? []));
    page.input.value = '';
  });
  page.dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    page.dropZone.classList.add('dragging');
  });
  page.dropZone.addEventListener('dragleave', () => page.dropZone.classList.remove('dragging'));
  page.dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    page.dropZone.classList.remove('dragging');
    enqueue(Array.from(event.dataTransfer?.files ?? []));
  });
  page.privacy.addEventListener('change', () => void togglePrivacy());
  page.explain.addEventListener('change', toggleExplain);
  byId('download-csv').addEventListener('click', downloadCsv);
  byId('clear-results').addEventListener('click', clearResults);
}

async function start(): Promise<void> {
  page.explain.checked = recall(EXPLAIN_KEY) === '1';
  page.results.classList.toggle('hide-heat-maps', !page.explain.checked);
  wire();
  try {
    state.model = await fetchModelSummary();
    renderModelInfo(page.modelInfo, state.model);
    if (!state.model.browserModel) {
      page.privacy.disabled = true;
      byId('privacy-hint').textContent = 'Unavailable: this server does not offer the model for in-browser use.';
    }
  } catch (error) {
    page.modelInfo.textContent = `The model's description could not be loaded: ${String(error)}`;
  }
  document.body.dataset.ready = 'true';
}

void start();
