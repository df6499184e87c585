// minna portal: a bar chart drawn as inline SVG (no library, no network).
const SVG = 'http://www.w3.org/2000/svg';

function svg (tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

// A round step for the value axis: 1, 2, 5, 10, 20, 50...
function niceStep (max, ticks) {
  const raw = Math.max(1, max) / ticks;
  const pow = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) {
    if (m * pow >= raw) return Math.max(1, m * pow);
  }
  return 10 * pow;
}

// values: numbers; labels: one per value (shown every labelEvery-th).
export function barChart ({ values, labels, title, description, xTitle, yTitle, labelEvery = 1 }) {
  const width = 720;
  const height = 300;
  const m = { top: 16, right: 12, bottom: 48, left: 52 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const max = Math.max(0, ...values);
  const step = niceStep(max, 5);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const id = 'chart-' + Math.random().toString(36).slice(2, 8);

  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'bar-chart',
    'aria-labelledby': `${id}-title ${id}-desc`, preserveAspectRatio: 'xMidYMid meet',
  });
  root.append(svg('title', { id: `${id}-title` }, title));
  root.append(svg('desc', { id: `${id}-desc` }, description));

  const plot = svg('g', { transform: `translate(${m.left},${m.top})` });
  for (let v = 0; v <= top; v += step) {
    const y = plotH - (v / top) * plotH;
    plot.append(svg('line', { x1: 0, x2: plotW, y1: y, y2: y, class: 'grid' }));
    plot.append(svg('text', { x: -8, y: y + 4, class: 'tick', 'text-anchor': 'end' }, String(v)));
  }
  const slot = plotW / values.length;
  const barW = Math.max(2, slot * 0.72);
  values.forEach((v, i) => {
    const h = (v / top) * plotH;
    const x = i * slot + (slot - barW) / 2;
    const bar = svg('rect', {
      x, y: plotH - h, width: barW, height: Math.max(0, h), class: 'bar', 'data-value': v,
    });
    bar.append(svg('title', {}, `${labels[i]}: ${v}`));
    plot.append(bar);
    if (i % labelEvery === 0) {
      plot.append(svg('text', { x: i * slot + slot / 2, y: plotH + 16, class: 'tick', 'text-anchor': 'middle' }, labels[i]));
    }
  });
  plot.append(svg('line', { x1: 0, x2: plotW, y1: plotH, y2: plotH, class: 'axis' }));
  plot.append(svg('line', { x1: 0, x2: 0, y1: 0, y2: plotH, class: 'axis' }));
  plot.append(svg('text', { x: plotW / 2, y: plotH + 38, class: 'axis-title', 'text-anchor': 'middle' }, xTitle));
  plot.append(svg('text', {
    x: -plotH / 2, y: -38, class: 'axis-title', 'text-anchor': 'middle', transform: 'rotate(-90)',
  }, yTitle));
  root.append(plot);
  return root;
}
