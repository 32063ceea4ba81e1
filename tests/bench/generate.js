// Deterministic generators for the benchmark's inputs: a ChatGPT page in the 2026-09 layout
// and ChatGPT-shaped official exports (conversations.json). Same seed → same bytes, so runs
// on different days and machines measure the same work.

/** mulberry32: a small seeded PRNG (uniform floats in [0, 1)). */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'queue retry backoff jitter storage index snapshot restore migration schema version cursor ' +
  'transaction record batch stream parser tokenizer serializer websocket session token cache ' +
  'eviction worker thread channel buffer encoder decoder request response header payload ' +
  'checksum digest signature config loader plugin handler router middleware template render ' +
  'layout viewport scroll virtual list filter ranking score query prefix suffix fragment ' +
  'snippet highlight language compiler linker module package release profile benchmark ' +
  'latency throughput memory allocation pointer lifetime borrow closure iterator future ' +
  'promise callback event listener timeout deadline invariant assertion fixture coverage'
).split(' ');

// Invented CJK phrases (Chinese, Japanese, Korean) as they appear in comments and prose.
const CJK = [
  '从数据库读取缓存的结果', '异步任务在后台运行', '搜索索引需要重建', '这个函数处理用户请求',
  '検索結果をキャッシュする', '非同期処理でデータを取得', '設定ファイルを読み込む',
  '데이터베이스 연결을 재사용합니다', '테스트 결과를 저장합니다', '错误时重试三次',
];

const LANGUAGES = ['python', 'rust', 'javascript', 'typescript', 'go', 'bash', 'sql', 'java'];

class Text {
  constructor(seed) {
    this.random = seededRandom(seed);
    this.serial = 0;
  }

  int(below) {
    return Math.floor(this.random() * below);
  }

  pick(list) {
    return list[this.int(list.length)];
  }

  words(count) {
    return Array.from({ length: count }, () => this.pick(WORDS)).join(' ');
  }

  sentence(min = 8, spread = 10) {
    const text = this.words(min + this.int(spread));
    return `${text[0].toUpperCase()}${text.slice(1)}.`;
  }

  /** A unique identifier: the serial keeps every generated code block distinct. */
  identifier() {
    this.serial += 1;
    return `${this.pick(WORDS)}_${this.pick(WORDS)}_${this.serial.toString(36)}`;
  }

  /** One code block of roughly `bytes` characters (lines of code, comments, CJK sometimes). */
  code(language, bytes) {
    const name = this.identifier();
    const comment = language === 'python' || language === 'bash' ? '#' : language === 'sql' ? '--' : '//';
    const lines = [];
    switch (language) {
      case 'python': lines.push(`def ${name}(items, limit=${this.int(100)}):`); break;
      case 'rust': lines.push(`fn ${name}(items: &[u64], limit: usize) -> Vec<u64> {`); break;
      case 'go': lines.push(`func ${name}(items []int, limit int) []int {`); break;
      case 'bash': lines.push(`${name}() {`); break;
      case 'sql': lines.push(`CREATE VIEW ${name} AS`); break;
      case 'java': lines.push(`static List<Long> ${name}(List<Long> items, int limit) {`); break;
      default: lines.push(`function ${name}(items, limit = ${this.int(100)}) {`);
    }
    let size = lines[0].length;
    while (size < bytes) {
      const kind = this.int(10);
      let line;
      if (kind === 0) line = `    ${comment} ${this.pick(CJK)}`;
      else if (kind <= 2) line = `    ${comment} ${this.words(4 + this.int(6))}`;
      else if (kind === 3) line = `    ${comment} TODO: ${this.words(3 + this.int(4))}`;
      else if (language === 'sql') line = `  SELECT ${this.pick(WORDS)}_id, ${this.pick(WORDS)} FROM ${this.pick(WORDS)} WHERE ${this.pick(WORDS)} > ${this.int(1000)}`;
      else if (language === 'bash') line = `    ${this.pick(['grep', 'sed', 'curl', 'jq'])} --${this.pick(WORDS)} "$${this.pick(WORDS)}" | sort`;
      else line = `    let ${this.pick(WORDS)}_${this.int(100)} = ${this.pick(WORDS)}(items, ${this.int(1000)}, "${this.pick(WORDS)}");`;
      lines.push(line);
      size += line.length + 1;
    }
    lines.push(language === 'python' || language === 'sql' ? `    return ${this.int(10)}` : '}');
    return lines.join('\n');
  }
}

const escapeHtml = (text) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** A code block as ChatGPT's 2026-09 page renders it: CodeMirror, lines split by <br>. */
function codeBlockHtml(language, code) {
  const lines = code.split('\n').map((line) => {
    const match = line.match(/^(\s*)(\S+)(.*)$/);
    if (!match) return '<span></span>';
    const [, indent, head, rest] = match;
    return `<span>${escapeHtml(indent)}</span><span class="ͼn">${escapeHtml(head)}</span><span>${escapeHtml(rest)}</span>`;
  });
  return '<pre class="overflow-visible! px-0!"><div class="relative w-full mt-4 mb-1"><div class="border border-token-border-light rounded-3xl">' +
    '<div class="sticky z-2 select-none top-0"><div class="flex w-full items-center justify-between py-1.5 ps-4 pe-1.5 font-sans bg-token-bg-elevated-secondary">' +
    `<div class="flex max-w-[75%] min-w-0 cursor-default items-center text-sm font-medium text-token-text-primary">${language}</div>` +
    '<div class="flex flex-row items-center gap-0.5"><button aria-label="Copy"><svg width="20" height="20" aria-hidden="true"></svg></button></div></div></div>' +
    '<div class="w-full overflow-x-hidden overflow-y-auto"><div class="relative z-0 flex max-w-full"><div id="code-block-viewer" dir="ltr" class="cm-editor"><div class="cm-scroller"><div class="cm-content cm-readonly">' +
    lines.join('<br>') +
    '</div></div></div></div></div></div></div></pre>';
}

function answerHtml(text, withCode) {
  const parts = [`<p>${escapeHtml(text.sentence())} <strong>${text.pick(WORDS)}</strong> ${escapeHtml(text.sentence())}</p>`];
  const shape = text.int(4);
  if (shape === 0) {
    const items = Array.from({ length: 2 + text.int(3) }, () => `<li><p>${escapeHtml(text.sentence(5, 6))}</p></li>`);
    parts.push(`<ol>${items.join('')}</ol>`);
  } else if (shape === 1) {
    const rows = Array.from({ length: 2 + text.int(3) }, () => `<tr><td>${text.pick(WORDS)}</td><td>${text.int(1000)}</td><td>${text.pick(['yes', 'no'])}</td></tr>`);
    parts.push(`<table><thead><tr><th>Name</th><th>Size</th><th>Async</th></tr></thead><tbody>${rows.join('')}</tbody></table>`);
  } else if (shape === 2) {
    parts.push(`<ul>${Array.from({ length: 3 }, () => `<li>${escapeHtml(text.words(6))} <code>${text.pick(WORDS)}()</code></li>`).join('')}</ul>`);
  }
  if (withCode) {
    const language = text.pick(LANGUAGES);
    parts.push(codeBlockHtml(language, text.code(language, 250 + text.int(800))));
    parts.push(`<p>${escapeHtml(text.sentence())}</p>`);
  }
  if (text.int(5) === 0) parts.push(`<p>${text.pick(CJK)}。</p>`);
  return parts.join('');
}

/**
 * A whole ChatGPT thread in the 2026-09 layout (`div[data-turn-key]` turns holding a prompt
 * and its answer), as the content script sends it after scrolling: every turn inside <main>.
 * Returns the HTML with the message and code-block counts a complete capture must report.
 */
export function chatgptPage({ turns, seed }) {
  const text = new Text(seed);
  const out = [];
  let codeBlocks = 0;
  for (let turn = 0; turn < turns; turn++) {
    const key = `7f1c2a9e-${String(turn).padStart(4, '0')}-4e6b-9d1a-1b2c3d4e5f60`;
    const answerId = `a1b2c3d4-${String(turn).padStart(4, '0')}-4aaa-8bbb-000000000001`;
    const prompt = text.int(6) === 0 ? `${text.sentence()} ${text.pick(CJK)}` : `${text.sentence()} ${text.sentence(4, 6)}`;
    const withCode = text.int(2) === 0;
    if (withCode) codeBlocks += 1;
    out.push(
      `<div class="[&amp;_[data-virtualized-turn-content]]:[content-visibility:visible]" data-turn-key="${key}">` +
        `<div data-content-search-turn-key="fallback-turn-${turn}">` +
        `<div data-chatgpt-search-unit-key="fallback-turn-${turn}:0:user" data-chatgpt-search-message-ids="${key}"><div data-content-search-unit-key="fallback-turn-${turn}:0:user">` +
        `<div data-user-message-bubble="true"><div class="text-size-chat whitespace-pre-wrap">${escapeHtml(prompt)}</div></div></div></div>` +
        `<div data-chatgpt-search-unit-key="fallback-turn-${turn}:1:assistant" data-chatgpt-search-message-ids="${answerId}">` +
        '<h4 class="sr-only" data-conversation-role="assistant">ChatGPT said:</h4>' +
        `<div data-chatgpt-selection-message-id="${answerId}"><div data-markdown-text-style="assistant-message" class="MarkdownRoot-rZKhxa">` +
        answerHtml(text, withCode) +
        '</div></div></div></div></div>',
    );
  }
  const html = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Bench thread - ChatGPT</title></head>' +
    `<body><main>${out.join('\n')}</main></body></html>`;
  return { html, messages: turns * 2, codeBlocks };
}

function uuid(text, n) {
  const hex = (n >>> 0).toString(16).padStart(8, '0');
  return `${hex}-${text.int(0xffff).toString(16).padStart(4, '0')}-4000-8000-${String(n).padStart(12, '0')}`;
}

/**
 * An official ChatGPT export (`conversations.json`): a list of {title, mapping, current_node,
 * …}, each a chain root → prompt → answer → …. `blocksPerConversation` distinct code blocks
 * (about `blockBytes` each) are spread over the answers. Stops at `conversations`, or before
 * the file would exceed `targetBytes`. Returns the JSON text and its counts.
 */
export function chatgptExport({ seed, conversations = Infinity, targetBytes = Infinity, exchanges = [1, 4], blocksPerConversation = null, blockBytes = 660 }) {
  const text = new Text(seed);
  const items = [];
  let bytes = 2;
  let codeBlocks = 0;
  const start = 1_700_000_000;
  for (let c = 0; c < conversations && bytes < targetBytes; c++) {
    const count = exchanges[0] + text.int(exchanges[1] - exchanges[0] + 1);
    const blocks = blocksPerConversation ?? text.int(count * 2);
    const perAnswer = Array.from({ length: count }, (_, i) => Math.floor(blocks / count) + (i < blocks % count ? 1 : 0));
    const id = uuid(text, c);
    const created = start + c * 3600;
    const rootId = `root-${id}`;
    const mapping = { [rootId]: { id: rootId, message: null, parent: null, children: [] } };
    let parent = rootId;
    const node = (role, body, at) => {
      const nodeId = uuid(text, c * 100 + Object.keys(mapping).length);
      mapping[parent].children.push(nodeId);
      mapping[nodeId] = {
        id: nodeId,
        message: { id: nodeId, author: { role }, create_time: at, content: { content_type: 'text', parts: [body] }, status: 'finished_successfully', recipient: 'all' },
        parent,
        children: [],
      };
      parent = nodeId;
    };
    for (let e = 0; e < count; e++) {
      node('user', text.int(6) === 0 ? `${text.sentence()} ${text.pick(CJK)}` : text.sentence(), created + e * 60);
      const answer = [text.sentence(), text.sentence()];
      for (let b = 0; b < perAnswer[e]; b++) {
        const language = text.pick(LANGUAGES);
        answer.push(`\`\`\`${language}\n${text.code(language, blockBytes - 40)}\n\`\`\``, text.sentence(6, 6));
      }
      if (text.int(3) === 0) answer.push(`- ${text.words(6)}\n- ${text.words(5)}\n- ${text.pick(CJK)}`);
      node('assistant', answer.join('\n\n'), created + e * 60 + 30);
    }
    const conversation = {
      title: `${text.words(3 + text.int(3))} ${c}`,
      create_time: created,
      update_time: created + count * 60,
      mapping,
      current_node: parent,
      conversation_id: id,
      id,
      default_model_slug: 'gpt-5',
    };
    const json = JSON.stringify(conversation);
    const size = Buffer.byteLength(json) + 1;
    if (bytes + size > targetBytes) break;
    bytes += size;
    items.push(json);
    codeBlocks += blocks;
  }
  return { json: `[${items.join(',')}]`, conversations: items.length, codeBlocks };
}

/** Queries for the search job, by kind; every one has matches in `chatgptExport`'s output. */
export const SEARCH_QUERIES = {
  word: ['backoff', 'tokenizer', 'websocket', 'migration', 'checksum', 'viewport'],
  words: ['retry backoff', 'cache eviction', 'schema version', 'parser encoder'],
  prefix: ['backo', 'tokeni', 'seria', 'migr', 'webso', 'throughp'],
  identifier: ['queue_retry', 'snapshot_restore'],
  cjk: ['数据库', '缓存', '検索', '非同期', '데이터베이스', '테스트'],
};
