// Loads the pages' wasm module and starts the popup (MV3 pages allow no inline script).
import init, { start_popup } from './dreamcatcher_popup.js';

init().then(() => start_popup());
