// Loads the pages' wasm module and starts the popup (MV3 pages allow no inline script). The
// list's first page was asked for by first-page.js while the page was parsed.
import init, { start_popup } from './dreamcatcher_popup.js';

init().then(() => start_popup());
