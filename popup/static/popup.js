// Loads the pages' wasm module and starts the popup (MV3 pages allow no inline script).
// The list's first page is asked for before the module compiles, so the worker's answer (and
// its wake-up, when Chrome had stopped it) overlap the start; the popup's first list takes it
// (popup/src/worker.rs, whose test keeps this request equal to the popup's own).
globalThis.dreamcatcherFirstPage = chrome.runtime.sendMessage({"type":"list_dreams","offset":0,"limit":50,"filter":{}});

import init, { start_popup } from './dreamcatcher_popup.js';

init().then(() => start_popup());
