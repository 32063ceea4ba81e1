// The benchmark's chart (bench/chart.svg), drawn from the measured rows: one panel per unit,
// a row per metric with a bar for ours and one per peer (medians), log scales, the target as
// a dashed mark, and the ratio in words under each label.
const COLORS = { ours: '#0f766e', peers: ['#c2410c', '#7c3aed', '#64748b', '#2563eb', '#a16207'] };
const WIDTH = 980;
const LABEL_W = 340;
const BAR_X = LABEL_W + 20;
const BAR_W = WIDTH - BAR_X - 200;
const BAR_H = 14;
const GAP = 3;

const esc = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fmt = {
  ms: (v) => (v >= 1000 ? `${(v / 1000).toFixed(v >= 10000 ? 0 : 1)} s` : v >= 10 ? `${v.toFixed(0)} ms` : v >= 1 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`),
  bytes: (v) => (v >= 10 * 1048576 ? `${(v / 1048576).toFixed(1)} MB` : `${Math.round(v / 1024).toLocaleString('en')} KB`),
  'MB/s': (v) => `${v.toFixed(v >= 10 ? 0 : 1)} MB/s`,
};


/** Grid labels: powers of ten (bytes: of 1 KB). */
const tick = {
  ms: (v) => (v >= 1000 ? `${+(v / 1000).toPrecision(3)} s` : `${+v.toPrecision(3)} ms`),
  bytes: (v) => `${(+(v / 1024).toPrecision(3)).toLocaleString('en')} KB`,
  'MB/s': (v) => `${+v.toPrecision(3)} MB/s`,
};

/** Words at most `max` characters a line. */
function wrap(text, max) {
  const lines = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > max) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** The label column of a row: case, metric, how ours compares, the target. */
function describe(row, bars) {
  const lines = [['group', row.group], ...wrap(row.metric, 50).map((l) => ['label', l])];
  for (const peer of bars.slice(1)) {
    if (!(bars[0].value > 0) || !(peer.value > 0)) continue;
    const c = compare(row, bars[0].value, peer.value, peer.name);
    lines.push([c.better ? 'good' : 'bad', c.text]);
  }
  if (row.target?.text) {
    const met = bars[0].value == null ? null
      : typeof row.target.met === 'function' ? row.target.met(bars[0].value, row)
        : typeof row.target.met === 'boolean' ? row.target.met : bars[0].value <= row.target.value;
    lines.push([met === false ? 'bad' : 'note', `target ${row.target.text}${met == null ? '' : met ? ': met' : ': missed'}`]);
  }
  return lines;
}

const PANELS = [
  { unit: 'ms', title: 'Time — shorter is better (log scale)' },
  { unit: 'MB/s', title: 'Page → Markdown throughput — longer is better (log scale)' },
  { unit: 'bytes', title: 'Size — shorter is better (log scale)' },
];

/** "ours 12× faster than turndown+gfm", and whether that is the better side. */
function compare(row, ours, peer, peerName) {
  const r = ours / peer;
  const better = row.unit === 'MB/s' ? r > 1 : r < 1;
  const factor = r >= 1 ? r : 1 / r;
  if (Math.abs(factor - 1) < 0.05) return { text: `ours about even with ${peerName}`, better: true };
  const n = factor >= 10 ? factor.toFixed(0) : factor.toFixed(1);
  const word = row.unit === 'bytes' ? (better ? 'smaller' : 'larger') : row.unit === 'MB/s' ? (better ? 'more' : 'less') : better ? 'faster' : 'slower';
  return { text: `ours ${n}× ${word} than ${peerName}`, better };
}

/** rows: compare.js's rows; size: its size measurement (adds the shipped-code row). */
export function renderChart(rows, size, { title, subtitle }) {
  const sizeRow = {
    group: 'Shipped code', metric: 'all wasm + JS of the extension, gzip', unit: 'bytes',
    ours: [size.total.gzip], peers: [], target: { text: '≤ 350 KB', value: 350 * 1024 },
  };
  const all = [...rows, sizeRow].filter((r) => r.ours?.length || r.peers.some((p) => p.values?.length));
  const out = [];
  let y = 64;
  const names = [...new Set(all.flatMap((r) => r.peers.map((p) => p.name)))];
  const peerColor = (name) => COLORS.peers[names.indexOf(name) % COLORS.peers.length];

  for (const panel of PANELS) {
    const panelRows = all.filter((r) => r.unit === panel.unit);
    if (!panelRows.length) continue;
    const values = panelRows.flatMap((r) => [...(r.ours?.length ? [median(r.ours)] : []), ...r.peers.filter((p) => p.values?.length).map((p) => median(p.values)), ...(r.target?.value ? [r.target.value] : [])]).filter((v) => v > 0);
    // Grid at powers of ten of the unit (bytes: of 1 KB).
    const base = panel.unit === 'bytes' ? 1024 : 1;
    const lo = base * 10 ** Math.floor(Math.log10(Math.min(...values) / base));
    const hi = base * 10 ** Math.ceil(Math.log10(Math.max(...values) / base));
    const x = (v) => BAR_X + (BAR_W * (Math.log10(Math.max(v, lo)) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
    y += 10;
    out.push(`<text x="16" y="${y}" class="panel">${esc(panel.title)}</text>`);
    y += 10;
    const top = y;
    const bodyRows = [];
    for (const row of panelRows) {
      const bars = [{ name: 'ours', value: row.ours?.length ? median(row.ours) : null, color: COLORS.ours },
        ...row.peers.map((p) => ({ name: p.name, value: p.values?.length ? median(p.values) : null, color: peerColor(p.name) }))];
      const lines = describe(row, bars);
      const height = Math.max(bars.length * (BAR_H + GAP) + 8, lines.length * 15 + 4) + 10;
      bodyRows.push({ row, bars, lines, y, height });
      y += height;
    }
    // Grid first, under the bars.
    for (let t = lo; t <= hi * 1.0001; t *= 10) {
      out.push(`<line x1="${x(t)}" y1="${top}" x2="${x(t)}" y2="${y}" class="grid"/>`);
      out.push(`<text x="${x(t)}" y="${y + 13}" class="tick">${esc(tick[panel.unit](t))}</text>`);
    }
    for (const { row, bars, lines, y: rowY, height } of bodyRows) {
      out.push(`<line x1="16" y1="${rowY + height - 4}" x2="${WIDTH - 16}" y2="${rowY + height - 4}" class="sep"/>`);
      lines.forEach(([cls, text], i) => out.push(`<text x="16" y="${rowY + 13 + i * 15}" class="${cls}">${esc(text)}</text>`));
      bars.forEach((bar, i) => {
        const by = rowY + 4 + i * (BAR_H + GAP);
        if (bar.value == null) {
          out.push(`<text x="${BAR_X + 4}" y="${by + BAR_H - 3}" class="value">${esc(bar.name)}: not measured</text>`);
          return;
        }
        const w = Math.max(2, x(bar.value) - BAR_X);
        out.push(`<rect x="${BAR_X}" y="${by}" width="${w.toFixed(1)}" height="${BAR_H}" rx="2" fill="${bar.color}"><title>${esc(`${bar.name}: ${fmt[row.unit](bar.value)}`)}</title></rect>`);
        out.push(`<text x="${(BAR_X + w + 5).toFixed(1)}" y="${by + BAR_H - 3}" class="value">${esc(fmt[row.unit](bar.value))}${i ? ` · ${esc(bar.name)}` : ''}</text>`);
      });
      if (row.target?.value) {
        const tx = x(row.target.value);
        out.push(`<line x1="${tx}" y1="${rowY + 1}" x2="${tx}" y2="${rowY + height - 8}" class="target"/>`);
      }
    }
    y += 26;
  }

  const legend = [{ name: 'ours (Dreamcatcher wasm)', color: COLORS.ours }, ...names.map((n) => ({ name: n, color: peerColor(n) }))];
  let lx = 16;
  let legendY = y + 6;
  for (const item of legend) {
    const w = 34 + item.name.length * 7.2;
    if (lx + w > WIDTH - 80) {
      lx = 16;
      legendY += 20;
    }
    out.push(`<rect x="${lx}" y="${legendY - 10}" width="12" height="12" rx="2" fill="${item.color}"/><text x="${lx + 17}" y="${legendY}" class="legend">${esc(item.name)}</text>`);
    lx += w;
  }
  out.push(`<line x1="${lx}" y1="${legendY - 11}" x2="${lx}" y2="${legendY + 2}" class="target"/><text x="${lx + 7}" y="${legendY}" class="legend">target</text>`);
  const height = legendY + 18;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">
<style>
  .title { font-size: 19px; font-weight: 600; fill: #0f172a; }
  .subtitle { font-size: 11px; fill: #64748b; }
  .panel { font-size: 14px; font-weight: 600; fill: #1e293b; }
  .label { font-size: 12px; fill: #0f172a; }
  .group { font-size: 12px; font-weight: 700; fill: #0f172a; }
  .good { font-size: 11px; fill: #047857; font-weight: 600; }
  .bad { font-size: 11px; fill: #b91c1c; font-weight: 600; }
  .note { font-size: 11px; fill: #475569; }
  .value { font-size: 11px; fill: #0f172a; }
  .tick { font-size: 10px; fill: #64748b; text-anchor: middle; }
  .legend { font-size: 12px; fill: #0f172a; }
  .grid { stroke: #e2e8f0; stroke-width: 1; }
  .sep { stroke: #f1f5f9; stroke-width: 1; }
  .target { stroke: #0f172a; stroke-width: 1.5; stroke-dasharray: 3 2; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="16" y="28" class="title">${esc(title)}</text>
<text x="16" y="46" class="subtitle">${esc(subtitle)}</text>
${out.join('\n')}
</svg>
`;
}

/** `node tests/bench/chart.js` redraws bench/chart.svg from bench/results.json. */
if (typeof process !== 'undefined' && import.meta.url === `file://${process.argv[1]}`) {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { dirname, join, resolve } = await import('node:path');
  const benchDir = join(resolve(dirname(new URL(import.meta.url).pathname), '..', '..'), 'bench');
  const saved = JSON.parse(readFileSync(join(benchDir, 'results.json'), 'utf8'));
  writeFileSync(join(benchDir, 'chart.svg'), renderChart(saved.rows, saved.size, saved.chart));
}
