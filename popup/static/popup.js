// Starts the popup (MV3 pages allow no inline script). The list's first page is asked for
// before the wasm module compiles, so the answer is there when the popup is. A running worker
// answers in a few milliseconds; a worker Chrome has stopped needs ~80 ms to wake and load its
// wasm, so then the page is also read from the database directly (first-page.js) and the first
// of the two to answer is shown. The popup's first list takes it (popup/src/worker.rs, whose
// test keeps this request equal to the popup's own).
import { firstPageFromDatabase } from './first-page.js';

const request = {"type":"list_dreams","offset":0,"limit":50,"filter":{}};
globalThis.dreamcatcherFirstPage = chrome.runtime.getContexts({ contextTypes: ['BACKGROUND'] })
  .then((running) => {
    const fromWorker = () => chrome.runtime.sendMessage(request);
    return running.length > 0 ? fromWorker() : firstPageFromDatabase(request.limit).catch(fromWorker);
  });

import init, { start_popup } from './dreamcatcher_popup.js';

init().then(() => start_popup());
