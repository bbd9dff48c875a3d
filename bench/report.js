// report.js: the demo's results table, as JSON and Markdown, and the
// learning curve of the spoken commands as an SVG.
//
//   node bench/report.js OUTDIR RUNS.tsv... [--device DEVICE.tsv]
//
// RUNS.tsv rows (bench/commands.sh, bench/digits.sh): task, mode, samples
// per class, seed, seconds, max RSS in KB, the run's --log-json file and,
// optionally, frost's planned training memory in bytes. DEVICE.tsv rows
// (scripts/demo): key, value. Writes OUTDIR/results.json,
// OUTDIR/results.md and OUTDIR/curve.svg.
'use strict';
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
const out = args.shift();
let deviceFile = null;
const runsFiles = [];
while (args.length) {
  const a = args.shift();
  if (a === '--device') deviceFile = args.shift();
  else runsFiles.push(a);
}

// One run: the epoch frost keeps (the best validation accuracy, ties to the
// lower loss, as runtime/trainloop.c picks it), the last epoch, the time.
function summarize(row) {
  const [task, mode, clips, seed, seconds, rss, log, planned] = row;
  const epochs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  let best = null;
  for (const e of epochs) {
    const m = e.val_acc - 1e-9 * e.val_loss;
    if (!best || m > best.m) best = { m, e };
  }
  const secs = epochs.map((e) => e.seconds).sort((a, b) => a - b);
  const last = epochs[epochs.length - 1];
  return {
    task, mode, per_class: Number(clips), seed: Number(seed),
    accuracy: best.e.val_acc, best_epoch: best.e.epoch, last_accuracy: last.val_acc,
    epochs: epochs.length, seconds: Number(seconds),
    seconds_per_epoch: secs[Math.floor(secs.length / 2)],
    max_rss_mb: Number(rss) / 1024 || null,
    planned_train_bytes: planned ? Number(planned) : null,
  };
}

const runs = [];
for (const f of runsFiles)
  for (const line of fs.readFileSync(f, 'utf8').split('\n'))
    if (line.trim()) runs.push(summarize(line.split('\t')));
const device = {};
if (deviceFile)
  for (const line of fs.readFileSync(deviceFile, 'utf8').split('\n')) {
    const t = line.indexOf('\t');
    if (t > 0) {
      const v = line.slice(t + 1);
      device[line.slice(0, t)] = isNaN(Number(v)) ? v : Number(v);
    }
  }

// The learning curve: mean, min and max over seeds per mode and size.
const curveRuns = runs.filter((r) => r.task === 'commands');
const sizes = [...new Set(curveRuns.map((r) => r.per_class))].sort((a, b) => a - b);
const curve = {};
for (const mode of ['backbone', 'mel']) {
  curve[mode] = sizes.map((n) => {
    const a = curveRuns.filter((r) => r.mode === mode && r.per_class === n).map((r) => r.accuracy);
    return { per_class: n, runs: a.length, mean: a.reduce((x, y) => x + y, 0) / a.length,
             min: Math.min(...a), max: Math.max(...a) };
  });
}

const full = (task) => runs.filter((r) => r.task === task &&
  r.per_class === Math.max(...runs.filter((q) => q.task === task).map((q) => q.per_class)));
const results = {
  commands: full('commands'), commands_curve: curve, digits: full('digits'), device,
};
fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');

const pct = (x) => (x == null || isNaN(x) ? '–' : (100 * x).toFixed(1) + '%');
const s1 = (x) => (x == null ? '–' : x.toFixed(1) + ' s');
const s2 = (x) => (x == null ? '–' : (1000 * x).toFixed(1) + ' ms');
const mb = (x) => (x == null ? '–' : x.toFixed(0) + ' MB');
const md = [];
const table = (title, head, rows) => {
  md.push(`### ${title}`, '', '| ' + head.join(' | ') + ' |',
          '|' + head.map(() => '---').join('|') + '|');
  for (const r of rows) md.push('| ' + r.join(' | ') + ' |');
  md.push('');
};
const runRow = (r) => [r.mode, String(r.per_class), pct(r.accuracy), pct(r.last_accuracy),
  `${r.best_epoch}/${r.epochs}`, s1(r.seconds), s2(r.seconds_per_epoch), mb(r.max_rss_mb)];
const head = ['mode', 'per class', 'held-out acc (kept epoch)', 'last epoch', 'kept/epochs',
  'training time', 'time/epoch', 'max RSS'];
table('Task A: spoken commands, test voices never heard (216 clips)', head,
      results.commands.map(runRow));
table('Task A: learning curve, accuracy on the test voices (mean [min, max] over seeds)',
  ['clips per word', 'backbone + head', 'mel + head (no backbone)', 'gap'],
  sizes.map((n, i) => {
    const b = curve.backbone[i], m = curve.mel[i];
    const f = (c) => `${pct(c.mean)} [${pct(c.min)}, ${pct(c.max)}] (${c.runs})`;
    return [String(n), f(b), f(m), (100 * (b.mean - m.mean)).toFixed(1) + ' points'];
  }));
table('Task B: digits, test fonts never seen (480 images)',
  [...head, 'planned training memory'],
  results.digits.map((r) => [...runRow(r),
    r.planned_train_bytes ? (r.planned_train_bytes / 1048576).toFixed(1) + ' MB' : '–']));
if (Object.keys(device).length) {
  table('Deploy: the compiled artifacts', ['what', 'value'],
        Object.entries(device).map(([k, v]) => [k, typeof v === 'number' && v <= 1 && v >= 0 &&
          /acc/.test(k) ? pct(v) : String(v)]));
}
md.push('"held-out acc (kept epoch)" is the accuracy of the epoch frost keeps, chosen on',
        'that same held-out set, so it is optimistic; "last epoch" is the accuracy of the',
        'last epoch, chosen by nothing. Times are wall-clock on this machine.', '');
fs.writeFileSync(path.join(out, 'results.md'), md.join('\n'));

// curve.svg: accuracy against clips per word (log scale), both heads, the
// seeds' range as bars.
const W = 620, H = 340, L = 60, R = 190, T = 30, B = 50;
const lx = (n) => Math.log2(n);
const x0 = lx(sizes[0]), x1 = lx(sizes[sizes.length - 1]);
const X = (n) => L + (W - L - R) * (x1 > x0 ? (lx(n) - x0) / (x1 - x0) : 0.5);
const Y = (a) => T + (H - T - B) * (1 - a);
const svg = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" ` +
  `font-family="sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="white"/>`,
  `<text x="${L}" y="18" font-size="14">Spoken commands: accuracy on unseen voices</text>`];
for (let a = 0; a <= 1.0001; a += 0.2) {
  svg.push(`<line x1="${L}" x2="${W - R}" y1="${Y(a)}" y2="${Y(a)}" stroke="#ddd"/>`,
           `<text x="${L - 6}" y="${Y(a) + 4}" text-anchor="end">${Math.round(a * 100)}%</text>`);
}
for (const n of sizes)
  svg.push(`<text x="${X(n)}" y="${H - B + 18}" text-anchor="middle">${n}</text>`);
svg.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">training clips per word</text>`,
  `<line x1="${L}" x2="${W - R}" y1="${Y(1 / 6)}" y2="${Y(1 / 6)}" stroke="#999" stroke-dasharray="4 3"/>`,
  `<text x="${W - R + 6}" y="${Y(1 / 6) + 4}" fill="#777">chance (1/6)</text>`);
const colours = { backbone: '#d9480f', mel: '#1c7ed6' };
const labels = { backbone: 'frozen backbone + head', mel: 'mel features + head' };
for (const [mode, pts] of Object.entries(curve)) {
  const c = colours[mode];
  svg.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="` +
    pts.map((p) => `${X(p.per_class).toFixed(1)},${Y(p.mean).toFixed(1)}`).join(' ') + '"/>');
  for (const p of pts) {
    svg.push(`<line x1="${X(p.per_class)}" x2="${X(p.per_class)}" y1="${Y(p.min)}" ` +
      `y2="${Y(p.max)}" stroke="${c}"/>`, `<circle cx="${X(p.per_class)}" ` +
      `cy="${Y(p.mean)}" r="3.5" fill="${c}"/>`);
  }
  const lp = pts[pts.length - 1];
  svg.push(`<text x="${W - R + 6}" y="${Y(lp.mean) + 4}" fill="${c}">${labels[mode]}</text>`);
}
svg.push('</svg>');
fs.writeFileSync(path.join(out, 'curve.svg'), svg.join('\n') + '\n');
