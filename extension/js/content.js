// Dreamcatcher's content script on chatgpt.com, chat.openai.com and claude.ai.
//
// Plain JavaScript on purpose: a page whose CSP lacks 'wasm-unsafe-eval' blocks wasm here, so
// this script only gathers raw data (the site's conversation JSON, or the thread's HTML) and
// hands it to the service worker, which parses and stores it with the Rust core. The layout
// selectors come from the worker too, so a site update is a change on the Rust side.
(() => {
  'use strict';
  if (globalThis.__dreamcatcherContent) return;
  globalThis.__dreamcatcherContent = true;

  const STEP_WAIT_MS = 160;
  const TOP_SETTLE_MS = 400;
  const MAX_SCROLL_STEPS = 600;
  const ANSWER_BUTTON_HTML = '<button type="button" class="dreamcatcher-ui dreamcatcher-answer">Capture this answer</button>';

  let anchors = null;
  let busy = false;
  let root = null;
  let statusTimer = 0;
  const answerButtons = new WeakMap();

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // The worker may be stopped at any moment; a message then fails once and wakes it.
  async function send(message) {
    for (let attempt = 0; ; attempt++) {
      try {
        const reply = await chrome.runtime.sendMessage(message);
        if (reply) return reply;
        throw new Error('no answer from the service worker');
      } catch (error) {
        if (attempt >= 2) throw error;
        await sleep(300);
      }
    }
  }

  function layout() {
    if (!anchors) return null;
    return anchors.layouts.find((l) => document.querySelector(l.detect)) || null;
  }

  function outsideDecoys(l) {
    return (element) => !(l.ignore_inside && element.closest(l.ignore_inside));
  }

  // ---------- in-page controls ----------

  function ensureControls() {
    if (root && root.isConnected) return;
    root = document.createElement('div');
    root.className = 'dreamcatcher-ui';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'dreamcatcher-capture';
    button.textContent = 'Capture';
    button.title = 'Save this conversation to Dreamcatcher';
    button.addEventListener('click', () => captureConversation('button'));
    const status = document.createElement('div');
    status.className = 'dreamcatcher-status';
    status.setAttribute('role', 'status');
    status.setAttribute('aria-live', 'polite');
    status.hidden = true;
    root.append(button, status);
    document.body.append(root);
  }

  function removeControls() {
    if (root) root.remove();
    root = null;
    for (const button of document.querySelectorAll('.dreamcatcher-answer')) button.remove();
  }

  function showStatus(text, kind) {
    ensureControls();
    const status = root.querySelector('.dreamcatcher-status');
    status.textContent = text;
    status.dataset.kind = kind;
    status.hidden = false;
    clearTimeout(statusTimer);
    if (kind !== 'progress') statusTimer = setTimeout(() => { status.hidden = true; }, 12000);
  }

  function showReply(reply) {
    if (reply && reply.type === 'captured') {
      showStatus(reply.summary, 'ok');
    } else if (reply && reply.type === 'error') {
      showStatus(reply.message, 'error');
    } else {
      showStatus('Dreamcatcher got an unexpected answer: nothing was saved.', 'error');
    }
  }

  function decorateAnswers() {
    const l = layout();
    if (!l || !anchors.show_answer_buttons) return;
    const seen = new Set();
    for (const answer of [...document.querySelectorAll(l.assistant_message)].filter(outsideDecoys(l))) {
      const unit = (l.turn && answer.closest(l.turn)) || answer;
      if (seen.has(unit)) continue;
      seen.add(unit);
      // One button per answer, after its last block.
      const blocks = l.turn ? [...unit.querySelectorAll(l.assistant_message)] : [answer];
      const last = blocks[blocks.length - 1] || answer;
      if (last.nextElementSibling && last.nextElementSibling.classList.contains('dreamcatcher-answer')) continue;
      last.insertAdjacentHTML('afterend', ANSWER_BUTTON_HTML);
      const button = last.nextElementSibling;
      answerButtons.set(button, unit);
      button.addEventListener('click', () => captureAnswer(button));
    }
  }

  // ---------- the site's JSON ----------

  async function fetchStep(step, url, init) {
    try {
      const response = await fetch(url, { credentials: 'include', ...init });
      const body = await response.text();
      return {
        step,
        status: response.status,
        retry_after: response.headers.get('Retry-After'),
        body: response.ok ? body : undefined,
      };
    } catch (error) {
      return { step, status: 0, error: String((error && error.message) || error) };
    }
  }

  function cookie(name) {
    const prefix = `${name}=`;
    const found = document.cookie.split('; ').find((c) => c.startsWith(prefix));
    return found ? decodeURIComponent(found.slice(prefix.length)) : null;
  }

  // Outcomes of the token/org steps never carry their bodies to the worker (the session
  // holds an access token).
  async function fetchSiteJson(site, id) {
    if (site === 'chatgpt') {
      const session = await fetchStep('session', '/api/auth/session');
      if (session.status !== 200) return { ...session, body: undefined };
      let token = null;
      try { token = JSON.parse(session.body).accessToken; } catch (_) { /* reported below */ }
      if (!token) return { step: 'session', status: 200, error: 'no accessToken in the session' };
      return fetchStep('conversation', `/backend-api/conversation/${encodeURIComponent(id)}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
    }
    let org = cookie('lastActiveOrg');
    if (!org) {
      const orgs = await fetchStep('organizations', '/api/organizations');
      if (orgs.status !== 200) return { ...orgs, body: undefined };
      try {
        const list = JSON.parse(orgs.body);
        org = Array.isArray(list) && list[0] && list[0].uuid;
      } catch (_) { /* reported below */ }
      if (!org) return { step: 'organizations', status: 200, error: 'no organization in the answer' };
    }
    return fetchStep(
      'conversation',
      `/api/organizations/${encodeURIComponent(org)}/chat_conversations/${encodeURIComponent(id)}` +
        '?tree=True&rendering_mode=messages&render_all_tools=true',
    );
  }

  // ---------- the page ----------

  function scrollerOf(l, firstTurn) {
    if (l.scroller) {
      const found = [...document.querySelectorAll(l.scroller)].find(outsideDecoys(l));
      if (found) return found;
    }
    for (let el = firstTurn && firstTurn.parentElement; el; el = el.parentElement) {
      const style = getComputedStyle(el);
      if (/(auto|scroll)/.test(style.overflowY) && el.scrollHeight > el.clientHeight) return el;
    }
    return document.scrollingElement;
  }

  function keyOf(l, turn) {
    for (const name of l.turn_key_attributes) {
      const value = turn.getAttribute(name);
      if (value) return value;
    }
    return null;
  }

  function withoutOurButtons(html) {
    return html.split(ANSWER_BUTTON_HTML).join('');
  }

  function escapeText(text) {
    return text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);
  }

  // A small document holding the given turns' HTML in order. Built as a string: nothing
  // captured is ever parsed into the live page.
  function documentOf(parts) {
    return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeText(document.title)}</title></head>` +
      `<body><main>${parts.map(withoutOurButtons).join('\n')}</main></body></html>`;
  }

  // Scrolls from the bottom of the thread to its top, keeping every turn seen on the way:
  // the sites mount only a few turns at a time.
  async function collectPage() {
    const l = layout();
    if (!l) {
      return { html: withoutOurButtons(document.documentElement.outerHTML), layout: null, turns_collected: 0, reached_top: true };
    }
    const turns = () => (l.turn ? [...document.querySelectorAll(l.turn)].filter(outsideDecoys(l)) : []);
    const scroller = scrollerOf(l, turns()[0] || document.querySelector(l.assistant_message));
    const saved = scroller.scrollTop;
    const order = [];
    const html = new Map();
    const collect = () => {
      let insertAt = 0;
      for (const turn of turns()) {
        const key = keyOf(l, turn) || `position-${order.length}`;
        const known = order.indexOf(key);
        if (known >= 0) {
          insertAt = known + 1;
        } else {
          order.splice(insertAt, 0, key);
          insertAt += 1;
        }
        html.set(key, turn.outerHTML);
      }
    };
    const bottom = l.reversed_scroll ? 0 : scroller.scrollHeight;
    const atTop = () => (l.reversed_scroll
      ? scroller.scrollTop <= -(scroller.scrollHeight - scroller.clientHeight) + 1
      : scroller.scrollTop <= 0);
    scroller.scrollTop = bottom;
    await sleep(STEP_WAIT_MS);
    collect();
    let reachedTop = false;
    for (let step = 0; step < MAX_SCROLL_STEPS; step++) {
      if (atTop()) {
        // Older turns load shortly after the top is reached (only while the tab is visible).
        const height = scroller.scrollHeight;
        const known = order.length;
        await sleep(TOP_SETTLE_MS);
        collect();
        if (scroller.scrollHeight === height && order.length === known) {
          reachedTop = true;
          break;
        }
      }
      scroller.scrollTop -= Math.max(200, scroller.clientHeight * 0.8);
      await sleep(STEP_WAIT_MS);
      collect();
    }
    scroller.scrollTop = saved;
    const page = l.turn
      ? documentOf(order.map((key) => html.get(key)))
      : withoutOurButtons(document.documentElement.outerHTML);
    return { html: page, layout: l.name, turns_collected: order.length, reached_top: reachedTop };
  }

  // ---------- captures ----------

  async function captureConversation(trigger) {
    if (busy) return;
    if (!anchors) await refresh();
    if (!anchors) {
      showStatus('This page is not a conversation Dreamcatcher can capture.', 'error');
      return;
    }
    busy = true;
    const button = root && root.querySelector('.dreamcatcher-capture');
    if (button) button.setAttribute('aria-busy', 'true');
    showStatus('Capturing…', 'progress');
    try {
      const url = location.href;
      const siteJson = await fetchSiteJson(anchors.site, anchors.conversation_site_id);
      let reply = await send({ type: 'capture', url, trigger, site_json: siteJson });
      if (reply.type === 'need_page') {
        showStatus('Reading the page (scrolling through the whole thread)…', 'progress');
        const page = await collectPage();
        reply = await send({ type: 'capture', url, trigger, site_json: siteJson, page });
      }
      showReply(reply);
    } catch (error) {
      showStatus(`Dreamcatcher could not reach its service worker: ${error.message}. Nothing was saved.`, 'error');
    } finally {
      busy = false;
      if (button) button.removeAttribute('aria-busy');
    }
  }

  function precedingPrompt(l, unit) {
    const isPrompt = (el) => el.matches(l.user_message) || el.querySelector(l.user_message);
    if (isPrompt(unit)) return null;
    if (l.turn) {
      const all = [...document.querySelectorAll(l.turn)].filter(outsideDecoys(l));
      const before = all.slice(0, all.indexOf(unit)).reverse().find(isPrompt);
      return before || null;
    }
    const prompts = [...document.querySelectorAll(l.user_message)].filter(outsideDecoys(l));
    const before = prompts.filter((p) => p.compareDocumentPosition(unit) & Node.DOCUMENT_POSITION_FOLLOWING);
    return before[before.length - 1] || null;
  }

  async function captureAnswer(button) {
    const l = layout();
    const unit = answerButtons.get(button);
    if (!l || !unit || busy) return;
    busy = true;
    showStatus('Capturing this answer…', 'progress');
    try {
      const answerUnit = l.turn ? unit : (unit.closest('[data-is-streaming]') || unit);
      const prompt = precedingPrompt(l, answerUnit);
      const parts = [prompt, answerUnit].filter(Boolean).map((el) => el.outerHTML);
      const answerKey = keyOf(l, unit) ||
        (unit.querySelector('[data-message-id]') || unit).getAttribute('data-message-id') || '';
      const reply = await send({ type: 'capture_answer', url: location.href, html: documentOf(parts), answer_key: answerKey });
      showReply(reply);
    } catch (error) {
      showStatus(`Dreamcatcher could not reach its service worker: ${error.message}. Nothing was saved.`, 'error');
    } finally {
      busy = false;
    }
  }

  // ---------- wiring ----------

  async function refresh() {
    try {
      const reply = await send({ type: 'page_anchors', url: location.href });
      anchors = reply.type === 'page_anchors' ? reply : null;
    } catch (_) {
      anchors = null;
    }
    if (!anchors) {
      removeControls();
      return;
    }
    if (anchors.show_page_button) ensureControls();
    decorateAnswers();
  }

  chrome.runtime.onMessage.addListener((message, _sender, sendResponse) => {
    if (!message || typeof message.type !== 'string') return false;
    if (message.type === 'dreamcatcher_capture') {
      captureConversation(message.trigger || 'shortcut');
    } else if (message.type === 'dreamcatcher_get_selection') {
      sendResponse(String(window.getSelection() || ''));
    } else if (message.type === 'dreamcatcher_feedback') {
      showReply(message.response);
    }
    return false;
  });

  // The sites are single-page apps: follow URL changes and newly rendered answers.
  let lastUrl = location.href;
  let pending = 0;
  new MutationObserver(() => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      if (location.href !== lastUrl) {
        lastUrl = location.href;
        refresh();
      } else {
        decorateAnswers();
      }
    }, 300);
  }).observe(document.body, { childList: true, subtree: true });

  refresh();
})();
