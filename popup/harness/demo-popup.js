// Screenshot harness: the popup over 10,000 invented dreams. Query parameters drive it into
// a state worth a picture: ?q=WORDS searches, ?filters opens the filter bar, ?open opens the
// first dream, ?delete deletes it (the snackbar with Undo shows).
import init, { start_demo_popup } from './dreamcatcher_popup.js';

const params = new URLSearchParams(location.search);
const later = (ms, fn) => new Promise((resolve) => setTimeout(() => { fn(); resolve(); }, ms));

await init();
start_demo_popup();
if (params.has('q')) {
  await later(100, () => {
    const input = document.querySelector('.search');
    input.value = params.get('q');
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}
if (params.has('filters')) await later(100, () => document.querySelector('.filter-toggle').click());
if (params.has('open') || params.has('delete')) {
  await later(300, () => document.querySelector('#row-0').click());
}
if (params.has('delete')) await later(300, () => document.querySelector('.dream-view .danger').click());
