// Screenshot harness: the settings page over an in-memory library. ?invalid fills the form
// with values that fail validation, to show the messages; ?paired pairs with the simulated
// PipelineOS (code ABCDE12345).
import init, { start_demo_options } from './dreamcatcher_popup.js';

const params = new URLSearchParams(location.search);
await init();
start_demo_options();
if (params.has('invalid')) {
  setTimeout(() => {
    for (const [id, value] of [['server-url', 'http://192.168.1.20:8080'], ['pairing-code', 'AB_12']]) {
      const input = document.getElementById(id);
      input.value = value;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }
  }, 200);
}
if (params.has('paired')) {
  setTimeout(() => {
    for (const [id, value] of [['server-url', 'https://pipelineos.example.com'], ['pairing-code', 'ABCDE-12345']]) {
      const input = document.getElementById(id);
      input.value = value;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }
    setTimeout(() => document.getElementById('pair-button').click(), 100);
  }, 200);
}
