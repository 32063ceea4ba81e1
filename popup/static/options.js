// Loads the pages' wasm module and starts the settings page (MV3 pages allow no inline script).
import init, { start_options } from './dreamcatcher_popup.js';

init().then(() => start_options());
