// Service worker (module). MV3 needs listeners registered synchronously at startup; each one
// waits for the wasm module and hands over to Rust, which does all the work.
import init, {
  handle_message, on_installed, on_context_menu, on_command, on_alarm, on_network_change,
} from './dreamcatcher_extension.js';

const ready = init({ module_or_path: new URL('dreamcatcher_extension_bg.wasm', import.meta.url) });

chrome.runtime.onMessage.addListener((message, _sender, sendResponse) => {
  if (!message || typeof message.type !== 'string' || message.type.startsWith('dreamcatcher_')) {
    return false;
  }
  ready
    .then(() => handle_message(message))
    .then(sendResponse, (error) => sendResponse({ type: 'error', code: 'internal', message: String(error) }));
  return true; // the answer comes asynchronously
});

chrome.runtime.onInstalled.addListener(() => {
  ready.then(() => on_installed()).catch((error) => console.error('Dreamcatcher setup failed:', error));
});

// Connected mode: the alarm resumes sync in a worker that was stopped; the network events
// end and start the waiting between reconnects.
chrome.alarms.onAlarm.addListener((alarm) => {
  ready.then(() => on_alarm(alarm.name));
});
self.addEventListener('online', () => ready.then(() => on_network_change(true)));
self.addEventListener('offline', () => ready.then(() => on_network_change(false)));

function onContextMenu(info, tab) {
  return ready.then(() => on_context_menu(info, tab ?? {}));
}
chrome.contextMenus.onClicked.addListener(onContextMenu);

function onCommand(command, tab) {
  return ready.then(() => on_command(command, tab ?? {}));
}
chrome.commands.onCommand.addListener(onCommand);
// The same handlers, reachable from DevTools and the end-to-end tests: headless Chromium
// cannot press extension shortcuts or open a context menu.
globalThis.dreamcatcherCommand = onCommand;
globalThis.dreamcatcherContextMenu = onContextMenu;
// The request handler the popup reaches through messaging, callable directly from the worker's
// console and the end-to-end tests (a worker cannot message itself).
globalThis.dreamcatcherHandle = (message) => ready.then(() => handle_message(message));
