// The t5rag knowledge-base page. It holds no data: it signs in with an API key (kept in sessionStorage for this tab,
// sent as a bearer token, never put in a URL) and then uses /api only. Whatever the server returns (document text,
// file names, model output) is untrusted and goes into the page as text (textContent, text nodes), never as markup.

const KEY_ITEM = 't5rag.key';
const PAGE_SIZE = 50;

const $ = (id) => document.getElementById(id);

const state = {
  key: null,          // the bearer token; '' or null: none (a local server with no key yet)
  active: false,      // signed in: the server took the key
  collection: '',
  added: new Set(),   // names typed in "New collection", created by their first upload
  documentsShown: 0,
  documentsTotal: 0,
  documentsLoad: 0,   // the latest listing: an older one still in flight (two jobs ending together) is dropped
  streams: new Set(), // AbortControllers of the streams in flight, aborted on sign-out
  ask: null,
};

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// ---- The API -------------------------------------------------------------------------------------------------------

async function api(path, { method = 'GET', json, body, accept, signal } = {}) {
  const headers = {};
  if (state.key) {
    headers.Authorization = `Bearer ${state.key}`;
  }
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  if (accept) {
    headers.Accept = accept;
  }

  let response;
  try {
    response = await fetch(path, { method, headers, body, signal, cache: 'no-store', credentials: 'omit' });
  } catch (error) {
    if (error.name === 'AbortError') {
      throw error;
    }
    throw new ApiError(0, `The server cannot be reached (${error.message}).`);
  }

  if (!response.ok) {
    const error = new ApiError(response.status, await problemText(response));
    if (response.status === 401 && signedIn()) {
      // The key was revoked (or the server lost its keys) while the page was open.
      signOut(`Signed out: ${error.message}`);
    }
    throw error;
  }
  return response;
}

// The detail of an RFC 9457 problem, which the API always sends; the status line otherwise.
async function problemText(response) {
  try {
    const problem = await response.json();
    if (problem && (problem.detail || problem.title)) {
      return String(problem.detail || problem.title);
    }
  } catch {
    // Not JSON: the status says enough.
  }
  return `${response.status} ${response.statusText}`.trim();
}

const segment = (value) => encodeURIComponent(value);
const collectionPath = (suffix = '') => `/api/collections/${segment(state.collection)}${suffix}`;

// Server-sent events read from a fetch response (EventSource cannot send the Authorization header).
async function* serverSentEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  let type = '';
  let data = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        return;
      }
      pending += value;
      // A lone CR at the very end may be the first half of a CRLF: it waits for the next chunk.
      const lines = pending.split(/\r\n|\r(?!$)|\n/);
      pending = lines.pop();
      for (const line of lines) {
        if (line === '') {
          if (data.length > 0) {
            yield { type: type || 'message', data: data.join('\n') };
          }
          type = '';
          data = [];
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let text = colon < 0 ? '' : line.slice(colon + 1);
          if (text.startsWith(' ')) {
            text = text.slice(1);
          }
          if (field === 'event') {
            type = text;
          } else if (field === 'data') {
            data.push(text);
          }
        }
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

// A stream's lifetime tied to the session: sign-out aborts it.
function track(controller) {
  state.streams.add(controller);
  return () => state.streams.delete(controller);
}

// ---- Small DOM helpers (text only) ---------------------------------------------------------------------------------

function element(tag, { className, text, attributes } = {}, ...children) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined && text !== null) {
    node.textContent = String(text);
  }
  for (const [name, value] of Object.entries(attributes ?? {})) {
    node.setAttribute(name, String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function showError(id, error) {
  $(id).textContent = error ? (error instanceof Error ? error.message : String(error)) : '';
}

const plural = (count, one, many = `${one}s`) => `${count.toLocaleString('en')} ${count === 1 ? one : many}`;

// Where a passage comes from: its page and section.
function whereText(passage) {
  const parts = [];
  if (passage.page !== undefined && passage.page !== null) {
    parts.push(`page ${passage.page}`);
  }
  if (passage.section) {
    parts.push(passage.section);
  }
  return parts.join(' · ');
}

// ---- Signing in ----------------------------------------------------------------------------------------------------

const signedIn = () => state.active;

async function signIn(key) {
  showError('sign-in-error', null);
  state.key = key;
  let list;
  try {
    list = await (await api('/api/collections')).json();
  } catch (error) {
    state.key = null;
    sessionStorage.removeItem(KEY_ITEM);
    showError('sign-in-error', `Not signed in: ${error.message}`);
    $('api-key').focus();
    return;
  }

  state.active = true;
  sessionStorage.setItem(KEY_ITEM, key);
  $('api-key').value = '';
  $('sign-in-panel').hidden = true;
  $('signed-in').hidden = false;
  $('signed-in-as').textContent = key ? 'Signed in with an API key.' : 'Signed in without a key (local server).';
  $('main').hidden = false;
  showCollections(list.collections);
  $('collection').focus();
}

function signOut(message) {
  for (const controller of state.streams) {
    controller.abort();
  }
  state.streams.clear();
  state.ask = null;
  state.active = false;
  state.key = null;
  state.collection = '';
  state.added.clear();
  sessionStorage.removeItem(KEY_ITEM);
  if ($('passage').open) {
    $('passage').close();
  }
  for (const id of ['collection', 'jobs', 'results', 'answer', 'citations', 'documents']) {
    $(id).replaceChildren();
  }
  for (const id of ['collection-info', 'ask-status', 'search-status', 'documents-status']) {
    $(id).textContent = '';
  }
  for (const id of ['collection-error', 'upload-error', 'ask-error', 'search-error', 'documents-error']) {
    showError(id, null);
  }
  $('citations-title').hidden = true;
  $('documents-more').hidden = true;
  $('main').hidden = true;
  $('signed-in').hidden = true;
  $('sign-in-panel').hidden = false;
  showError('sign-in-error', message ?? null);
  $('api-key').focus();
}

// ---- Collections ---------------------------------------------------------------------------------------------------

let collections = [];

// The picker and the collection's line; the documents are listed again unless told not to (a deletion keeps its list).
function showCollections(list, { documents = true } = {}) {
  collections = list;
  const select = $('collection');
  const names = new Set(list.map((c) => c.name));
  for (const name of names) {
    state.added.delete(name);
  }
  select.replaceChildren(
    ...list.map((c) => element('option', { text: `${c.name} (${plural(c.documents, 'document')})`, attributes: { value: c.name } })),
    ...[...state.added].map((name) => element('option', { text: `${name} (new)`, attributes: { value: name } })),
  );
  if (select.options.length === 0) {
    select.append(element('option', { text: 'No collection yet', attributes: { value: '' } }));
  }
  const keep = names.has(state.collection) || state.added.has(state.collection);
  select.value = keep ? state.collection : select.options[0].value;
  const changed = select.value !== state.collection;
  state.collection = select.value;
  showCollectionInfo();
  if (changed) {
    collectionChanged();
  } else if (documents) {
    loadDocuments();
  }
}

function showCollectionInfo() {
  const info = collections.find((c) => c.name === state.collection);
  $('collection-info').textContent = info
    ? `${plural(info.documents, 'document')}, ${plural(info.passages, 'passage')} · ${info.model} (${info.dimensions} dimensions)`
    : state.collection
      ? 'New: created by its first upload.'
      : 'No collection yet: name one under “New collection”, then upload files into it.';
}

async function refreshCollections(options) {
  showError('collection-error', null);
  try {
    showCollections((await (await api('/api/collections')).json()).collections, options);
  } catch (error) {
    showError('collection-error', error);
  }
}

function collectionChanged() {
  if (state.ask) {
    state.ask.abort();
  }
  $('results').replaceChildren();
  $('answer').replaceChildren();
  $('citations').replaceChildren();
  $('citations-title').hidden = true;
  for (const id of ['ask-status', 'search-status']) {
    $(id).textContent = '';
  }
  for (const id of ['ask-error', 'search-error', 'upload-error']) {
    showError(id, null);
  }
  loadDocuments();
}

function addCollection(event) {
  event.preventDefault();
  const name = $('new-collection').value.trim();
  if (!name) {
    showError('collection-error', 'Type a name for the new collection.');
    $('new-collection').focus();
    return;
  }
  showError('collection-error', null);
  if (!collections.some((c) => c.name === name)) {
    state.added.add(name);
  }
  state.collection = name;
  $('new-collection').value = '';
  showCollections(collections, { documents: false });
  collectionChanged();
  $('files').focus();
}

// ---- Upload and jobs -----------------------------------------------------------------------------------------------

const JOB_STATES = {
  uploading: 'Uploading…',
  queued: 'Queued',
  running: 'Indexing',
  succeeded: 'Done',
  completed_with_errors: 'Done, with errors',
  failed: 'Failed',
};

function parseTags(text) {
  return text.split(',').map((tag) => tag.trim()).filter((tag) => tag.length > 0);
}

async function upload(files) {
  showError('upload-error', null);
  if (files.length === 0) {
    return;
  }
  if (!state.collection) {
    showError('upload-error', 'Pick a collection first, or name a new one under “New collection”.');
    return;
  }

  const collection = state.collection;
  const item = jobItem(files.map((file) => file.name));
  $('jobs').prepend(item.root);
  const form = new FormData();
  for (const file of files) {
    form.append('files', file, file.name);
  }
  for (const tag of parseTags($('tags').value)) {
    form.append('tags', tag);
  }

  let accepted;
  try {
    accepted = await (await api(collectionPath('/documents'), { method: 'POST', body: form })).json();
  } catch (error) {
    item.fail(error.message);
    return;
  }
  item.root.dataset.jobId = accepted.job_id;
  await followJob(accepted.job_id, item);
  if (signedIn() && collection === state.collection) {
    await refreshCollections();
  }
}

let jobsShown = 0;

// One job's line: its files, a progress bar, its state, each failed file's reason.
function jobItem(names) {
  const title = element('span', { className: 'job-title', text: names.length === 1 ? names[0] : `${names.length} files: ${names.join(', ')}` });
  title.id = `job-${++jobsShown}`;
  const bar = element('progress', { attributes: { max: 1, 'aria-labelledby': title.id } });
  const stateText = element('span', { className: 'job-state' });
  const detail = element('span', { className: 'job-detail' });
  const failures = element('ul', { className: 'job-files' });
  const root = element('li', { className: 'job' }, element('div', {}, title, ' — ', stateText, ' ', detail), bar, failures);

  const set = (name, text) => {
    root.dataset.state = name;
    stateText.className = `job-state ${name}`;
    stateText.textContent = JOB_STATES[name] ?? name;
    detail.textContent = text ? `· ${text}` : '';
  };
  set('uploading');

  return {
    root,
    show(job) {
      bar.value = job.progress;
      const percent = `${Math.round(job.progress * 100)} %`;
      const counts = `${plural(job.documents_new, 'new document')}, ${job.documents_changed} changed, ${job.documents_unchanged} unchanged, ${plural(job.passages, 'passage')}`;
      const finished = job.state === 'succeeded' || job.state === 'completed_with_errors' || job.state === 'failed';
      set(job.state, job.state === 'failed' ? (job.error ?? '') : finished ? counts : percent);
      failures.replaceChildren(...job.files.filter((f) => f.state === 'failed').map((f) => element('li', { text: `${f.name}: ${f.reason ?? 'failed'}` })));
      return finished;
    },
    fail(message) {
      bar.value = 0;
      set('failed', message);
    },
  };
}

async function followJob(id, item) {
  const controller = new AbortController();
  const untrack = track(controller);
  try {
    const response = await api(`/api/jobs/${segment(id)}/events`, { accept: 'text/event-stream', signal: controller.signal });
    for await (const event of serverSentEvents(response)) {
      if (item.show(JSON.parse(event.data))) {
        return;
      }
    }
    // The stream ended before the job did (the server stopped): what the job says now.
    item.show(await (await api(`/api/jobs/${segment(id)}`, { signal: controller.signal })).json());
  } catch (error) {
    if (error.name !== 'AbortError') {
      item.fail(error.message);
    }
  } finally {
    untrack();
  }
}

function setUpDropZone() {
  const zone = $('drop-zone');
  const over = (on) => (event) => {
    if (event.dataTransfer && [...event.dataTransfer.types].includes('Files')) {
      event.preventDefault();
      zone.classList.toggle('over', on);
    }
  };
  zone.addEventListener('dragenter', over(true));
  zone.addEventListener('dragover', over(true));
  zone.addEventListener('dragleave', over(false));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    upload([...(event.dataTransfer?.files ?? [])]);
  });
  $('files').addEventListener('change', () => {
    const files = [...$('files').files];
    $('files').value = '';
    upload(files);
  });
  // A file dropped beside the zone would make the browser leave the page for it.
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => event.preventDefault());
}

// ---- The passage dialog --------------------------------------------------------------------------------------------

let opener = null;

// Shows one passage: its source, title, section, page, document and text; focus returns to the opener on close.
function openPassage(heading, passage, text, from) {
  const dialog = $('passage');
  $('passage-title').textContent = heading;
  const rows = [
    ['Source', passage.source],
    ['Title', passage.title],
    ['Page', passage.page],
    ['Section', passage.section],
    ['Document', passage.document_id !== passage.source ? passage.document_id : null],
    ['Score', typeof passage.score === 'number' ? passage.score.toFixed(3) : null],
  ].filter(([, value]) => value !== undefined && value !== null && value !== '');
  $('passage-meta').replaceChildren(...rows.flatMap(([name, value]) => [element('dt', { text: name }), element('dd', { text: value, attributes: { 'data-field': name.toLowerCase() } })]));
  $('passage-text').textContent = text ?? '';
  opener = from;
  dialog.showModal();
  $('passage-close').focus();
}

function setUpDialog() {
  const dialog = $('passage');
  $('passage-close').addEventListener('click', () => dialog.close());
  // A click on the backdrop (outside the dialog's box) closes it too.
  dialog.addEventListener('click', (event) => {
    const box = dialog.getBoundingClientRect();
    const outside = event.clientX < box.left || event.clientX > box.right || event.clientY < box.top || event.clientY > box.bottom;
    if (event.target === dialog && outside) {
      dialog.close();
    }
  });
  dialog.addEventListener('close', () => {
    if (opener && opener.isConnected) {
      opener.focus();
    }
    opener = null;
  });
}

// ---- Ask -----------------------------------------------------------------------------------------------------------

function numberIn(input, fallback) {
  const value = Number.parseInt(input.value, 10);
  return Number.isFinite(value) ? value : fallback;
}

// What a form asks for: its field's text, or null (the reason shown) while the field is empty or no collection is picked.
function submitted(event, field, errorId, empty) {
  event.preventDefault();
  showError(errorId, null);
  const text = $(field).value.trim();
  if (!text) {
    showError(errorId, empty);
    $(field).focus();
    return null;
  }
  if (!state.collection) {
    showError(errorId, 'Pick a collection first, or name a new one under “New collection”.');
    return null;
  }
  return text;
}

async function ask(event) {
  const question = submitted(event, 'question', 'ask-error', 'Type a question first.');
  if (question === null) {
    return;
  }
  if (state.ask) {
    state.ask.abort();
  }

  const controller = new AbortController();
  state.ask = controller;
  const untrack = track(controller);
  const answer = $('answer');
  const text = document.createTextNode('');
  answer.replaceChildren(text);
  answer.setAttribute('aria-busy', 'true');
  $('citations').replaceChildren();
  $('citations-title').hidden = true;
  $('ask-status').textContent = 'Retrieving…';
  let citations = [];
  try {
    const response = await api(collectionPath('/ask'), {
      method: 'POST',
      accept: 'text/event-stream',
      json: { question, stream: true, top: numberIn($('ask-top'), 8), max_new_tokens: numberIn($('ask-tokens'), 256) },
      signal: controller.signal,
    });
    let done = false;
    for await (const message of serverSentEvents(response)) {
      const data = JSON.parse(message.data);
      if (message.type === 'error') {
        // The answerer failed once the stream had begun (a chat model that stopped answering): the server says why.
        throw new Error(`${data.title}: ${data.detail}`);
      } else if (message.type === 'context') {
        $('ask-status').textContent = `Answering from ${plural(data.passages.length, 'passage')}…`;
      } else if (message.type === 'delta') {
        text.data += data.text;
      } else if (message.type === 'citations') {
        citations = data.citations;
        showCitations(citations);
      } else if (message.type === 'done') {
        done = true;
        showAnswer(data.answer, citations);
        const seconds = (data.timings.total_ms / 1000).toFixed(1);
        $('ask-status').textContent = `Answered in ${seconds} s${data.timed_out ? ', cut short by the server’s time limit' : ''}.`;
      }
    }
    if (!done) {
      throw new Error('The answer stopped before it was finished (the connection closed); ask again.');
    }
  } catch (error) {
    if (error.name !== 'AbortError') {
      $('ask-status').textContent = '';
      showError('ask-error', error);
    }
  } finally {
    untrack();
    if (state.ask === controller) {
      state.ask = null;
      answer.setAttribute('aria-busy', 'false');
    }
  }
}

// A citation's label: its title, source, page and section.
function citationLabel(citation) {
  const where = whereText(citation);
  return `${citation.title ? `${citation.title} — ` : ''}${citation.source}${where ? `, ${where}` : ''}`;
}

function citationButton(citation, text, className) {
  const button = element('button', {
    className,
    text,
    attributes: { type: 'button', 'aria-haspopup': 'dialog', 'aria-label': `Source ${citation.number}: ${citationLabel(citation)}`, 'data-citation': citation.number },
  });
  button.addEventListener('click', () => openPassage(`[${citation.number}] ${citation.source}`, citation, citation.text ?? citation.snippet, button));
  return button;
}

// Every passage the answer was given; those its text cites first, marked.
function showCitations(citations) {
  const ordered = [...citations].sort((a, b) => Number(b.cited) - Number(a.cited) || a.number - b.number);
  $('citations').replaceChildren(...ordered.map((citation) => {
    const label = element('span', { className: 'cite-label', text: citationLabel(citation) });
    if (!citation.cited) {
      label.append(element('span', { className: 'hint', text: ' (given, not cited)' }));
    }
    return element('li', { className: citation.cited ? 'cited' : 'uncited' }, citationButton(citation, `[${citation.number}]`, 'cite-open quiet'), label);
  }));
  $('citations-title').hidden = citations.length === 0;
}

// The final answer, its [n] markers as buttons that open the passage.
function showAnswer(answer, citations) {
  const byNumber = new Map(citations.map((c) => [c.number, c]));
  const parts = [];
  let last = 0;
  for (const match of answer.matchAll(/\[(\d{1,4})\]/g)) {
    const citation = byNumber.get(Number(match[1]));
    if (citation) {
      parts.push(document.createTextNode(answer.slice(last, match.index)), citationButton(citation, match[0], 'cite quiet'));
      last = match.index + match[0].length;
    }
  }
  parts.push(document.createTextNode(answer.slice(last)));
  $('answer').replaceChildren(...parts);
}

// ---- Search --------------------------------------------------------------------------------------------------------

async function search(event) {
  const query = submitted(event, 'query', 'search-error', 'Type what to look for first.');
  if (query === null) {
    return;
  }
  $('search-status').textContent = 'Searching…';
  try {
    const { passages } = await (await api(collectionPath('/search'), { method: 'POST', json: { query, top: 8 } })).json();
    $('search-status').textContent = passages.length === 0 ? 'Nothing found.' : plural(passages.length, 'passage');
    $('results').replaceChildren(...passages.map(resultItem));
  } catch (error) {
    $('search-status').textContent = '';
    showError('search-error', error);
  }
}

function resultItem(passage) {
  const where = whereText(passage);
  const open = element('button', { className: 'quiet', text: 'Show passage', attributes: { type: 'button', 'aria-haspopup': 'dialog' } });
  open.addEventListener('click', () => openPassage(`${passage.rank}. ${passage.source}`, passage, passage.text, open));
  return element('li', {},
    element('div', { className: 'result-head' },
      element('span', { className: 'source', text: `${passage.rank}. ${passage.title ? `${passage.title} — ` : ''}${passage.source}` }),
      where ? element('span', { className: 'where', text: where }) : null,
      element('span', { className: 'score', text: `score ${passage.score.toFixed(3)}` })),
    element('p', { className: 'snippet', text: passage.snippet }),
    open);
}

// ---- Documents -----------------------------------------------------------------------------------------------------

async function loadDocuments(more = false) {
  showError('documents-error', null);
  const load = ++state.documentsLoad;
  if (!more) {
    $('documents').replaceChildren();
    state.documentsShown = 0;
  }
  if (!state.collection || state.added.has(state.collection)) {
    showDocumentsStatus(0);
    return;
  }
  try {
    const page = await (await api(collectionPath(`/documents?offset=${state.documentsShown}&limit=${PAGE_SIZE}`))).json();
    if (load !== state.documentsLoad) {
      return;
    }
    $('documents').append(...page.documents.map(documentItem));
    state.documentsShown += page.documents.length;
    showDocumentsStatus(page.total);
  } catch (error) {
    showError('documents-error', error);
  }
}

function showDocumentsStatus(total) {
  state.documentsTotal = total;
  const shown = state.documentsShown;
  $('documents-status').textContent = total === 0 ? 'No documents yet.' : `${plural(total, 'document')}${shown < total ? `, ${shown} shown` : ''}.`;
  $('documents-more').hidden = shown >= total;
}

function documentItem(document_) {
  const indexed = new Date(document_.indexed_at);
  const remove = element('button', { className: 'danger', text: 'Delete', attributes: { type: 'button', 'aria-label': `Delete ${document_.document_id}` } });
  const item = element('li', { attributes: { 'data-document': document_.document_id } },
    element('div', { className: 'document-head' },
      element('span', { className: 'source', text: document_.document_id }),
      element('span', { className: 'where', text: `${plural(document_.passages, 'passage')} · indexed ${indexed.toLocaleString()}` })),
    remove);
  remove.addEventListener('click', () => deleteDocument(document_.document_id, item));
  return item;
}

async function deleteDocument(id, item) {
  if (!window.confirm(`Delete “${id}” and its passages from ${state.collection}?`)) {
    return;
  }
  showError('documents-error', null);
  try {
    await api(collectionPath(`/documents/${segment(id)}`), { method: 'DELETE' });
    const next = item.nextElementSibling?.querySelector('button') ?? item.previousElementSibling?.querySelector('button');
    item.remove();
    state.documentsShown = Math.max(0, state.documentsShown - 1);
    showDocumentsStatus(Math.max(0, state.documentsTotal - 1));
    (next ?? $('documents-title')).focus();
    await refreshCollections({ documents: false });
  } catch (error) {
    showError('documents-error', error);
  }
}

// ---- Start ---------------------------------------------------------------------------------------------------------

function start() {
  $('sign-in').addEventListener('submit', (event) => {
    event.preventDefault();
    signIn($('api-key').value.trim());
  });
  $('sign-out').addEventListener('click', () => signOut());
  $('collection').addEventListener('change', () => {
    state.collection = $('collection').value;
    showCollectionInfo();
    collectionChanged();
  });
  $('refresh').addEventListener('click', () => refreshCollections());
  $('create-collection').addEventListener('submit', addCollection);
  $('ask').addEventListener('submit', ask);
  $('search').addEventListener('submit', search);
  $('documents-more').addEventListener('click', () => loadDocuments(true));
  setUpDropZone();
  setUpDialog();

  const saved = sessionStorage.getItem(KEY_ITEM);
  if (saved !== null) {
    signIn(saved);
  } else {
    $('api-key').focus();
  }
}

start();
