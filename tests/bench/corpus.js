// The search case's corpus: fragments of code and prose (English, Chinese, Japanese, Korean)
// and 1,000 queries of five kinds, all from a fixed seed, so every run and every contestant
// indexes the same bytes. Pure ES module: the browser page imports it as well as Node.
import { seededRandom } from './generate.js';

const SYLLABLES = ['ka', 'to', 'ri', 'mo', 'sen', 'da', 'lu', 'vi', 'ter', 'pon', 'gra', 'fe', 'chi', 'nor', 'bel',
  'st', 'qu', 'an', 'ex', 'im', 'ol', 'ur', 'zy', 'wen', 'hal', 'tic', 'ment', 'ing', 'er', 'ous', 'al', 'ize'];
const LANGUAGES = ['python', 'rust', 'javascript', 'typescript', 'go', 'bash', 'sql', 'java'];
const KANA = 'あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんアイウエオカキクケコサシスセソタチツテト';

/** Invented words, Zipf-distributed: a dictionary the size real libraries have. */
class Vocabulary {
  constructor(random, size) {
    this.random = random;
    const seen = new Set();
    this.words = [];
    while (this.words.length < size) {
      const parts = 2 + Math.floor(random() * 3);
      let word = '';
      for (let i = 0; i < parts; i++) word += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
      if (word.length >= 4 && !seen.has(word)) {
        seen.add(word);
        this.words.push(word);
      }
    }
  }

  int(below) {
    return Math.floor(this.random() * below);
  }

  /** Rank r with probability ~ 1/r. */
  word() {
    return this.words[Math.min(this.words.length - 1, Math.floor(Math.exp(this.random() * Math.log(this.words.length + 1))) - 1)];
  }

  identifier() {
    const parts = [this.word(), this.word(), this.word()].slice(0, 2 + this.int(2));
    return this.int(2) ? parts.join('_') : parts[0] + parts.slice(1).map((p) => p[0].toUpperCase() + p.slice(1)).join('');
  }

  cjk(script, chars) {
    let out = '';
    for (let i = 0; i < chars; i++) {
      if (script === 'zh') out += String.fromCodePoint(0x4e00 + this.int(1500));
      else if (script === 'ja') out += this.int(3) ? KANA[this.int(KANA.length)] : String.fromCodePoint(0x4e00 + this.int(1500));
      else out += String.fromCodePoint(0xac00 + this.int(2000)) + (this.int(4) === 0 ? ' ' : '');
    }
    return out;
  }

  prose(script, bytes) {
    const out = [];
    let size = 0;
    while (size < bytes) {
      const piece = script === 'en' || this.int(3) === 0 ? this.word() : this.cjk(script, 4 + this.int(6));
      out.push(piece);
      size += piece.length * (script === 'en' ? 1 : 3) + 1;
    }
    return `${out.join(' ')}.`;
  }

  code(language, script, bytes) {
    const lines = [`${language === 'python' ? 'def' : 'fn'} ${this.identifier()}(${this.word()}, ${this.word()}):`];
    let size = lines[0].length;
    while (size < bytes) {
      const kind = this.int(6);
      const line = kind === 0
        ? `    // ${script === 'en' ? this.prose('en', 30) : this.cjk(script, 6)}`
        : `    let ${this.identifier()} = ${this.identifier()}(${this.word()}, ${this.int(1000)});`;
      lines.push(line);
      size += line.length + 1;
    }
    return lines.join('\n');
  }
}

/**
 * `count` fragments, `perConversation` to a conversation: {conversation, title, language,
 * prose, code}, ~660 B each (prose ~220 B, code ~440 B). One in three is prose only.
 */
export function fragmentCorpus({ count = 50_000, perConversation = 20, seed = 0x5eed } = {}) {
  const random = seededRandom(seed);
  const v = new Vocabulary(random, 30_000);
  const fragments = [];
  let title = '';
  let script = 'en';
  for (let i = 0; i < count; i++) {
    const conversation = Math.floor(i / perConversation);
    if (i % perConversation === 0) {
      const roll = v.int(100);
      script = roll < 65 ? 'en' : roll < 85 ? 'zh' : roll < 95 ? 'ja' : 'ko';
      title = script === 'en' ? `${v.word()} ${v.word()} ${v.word()}` : v.cjk(script, 8);
    }
    const codeToo = v.int(3) !== 0;
    const language = codeToo ? LANGUAGES[v.int(LANGUAGES.length)] : '';
    fragments.push({
      conversation,
      title,
      language,
      prose: v.prose(script, codeToo ? 220 : 660),
      code: codeToo ? v.code(language, script, 440) : '',
    });
  }
  return fragments;
}

/** The text a peer indexes for a fragment (ours indexes the same prose and code). */
export const fragmentText = (f) => (f.code ? `${f.prose}\n${f.code}` : f.prose);

/**
 * `perKind` queries of each kind, drawn from the fragments so every one has matches:
 * single-term, multi-term (two words of one fragment), prefix (a word cut to 3–6 letters),
 * code identifier, CJK (2–3 characters of a CJK run).
 */
export function corpusQueries(fragments, { perKind = 200, seed = 0x9e3 } = {}) {
  const random = seededRandom(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const words = (text) => text.match(/[a-z]{4,}/g) ?? [];
  const queries = { single: [], multi: [], prefix: [], identifier: [], cjk: [] };
  let guard = 0;
  while (Object.values(queries).some((list) => list.length < perKind) && guard++ < perKind * 1000) {
    const f = pick(fragments);
    const w = words(f.prose);
    if (w.length >= 2) {
      if (queries.single.length < perKind) queries.single.push(pick(w));
      if (queries.multi.length < perKind) {
        const at = Math.floor(random() * (w.length - 1));
        queries.multi.push(`${w[at]} ${w[at + 1]}`);
      }
      const word = pick(w);
      if (queries.prefix.length < perKind && word.length >= 6) queries.prefix.push(word.slice(0, 3 + Math.floor(random() * Math.min(4, word.length - 4))));
    }
    const ids = f.code.match(/\b[a-z]+(?:_[a-z]+)+\b|\b[a-z]+(?:[A-Z][a-z]+)+\b/g);
    if (ids && queries.identifier.length < perKind) queries.identifier.push(pick(ids));
    const runs = `${f.title} ${f.prose}`.match(/[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]{3,}/g);
    if (runs && queries.cjk.length < perKind) {
      const run = pick(runs);
      const at = Math.floor(random() * (run.length - 2));
      queries.cjk.push(run.slice(at, at + 2 + Math.floor(random() * 2)));
    }
  }
  return Object.entries(queries).flatMap(([kind, list]) => list.map((query) => ({ kind, query })));
}
