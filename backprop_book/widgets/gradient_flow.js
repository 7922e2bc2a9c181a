// Front end of backprop_book.widgets.gradient_flow.GradientFlow (an anywidget ES module).
//
// The model's "setup" holds a network of sigmoid blocks (width n, up to max_depth blocks,
// weights W[l] row-major n x n, biases b[l]), a batch H0 (n x m, row-major) and the cost's
// coefficients R (n x m). For the chosen depth, residual switch and norm, this script runs
// the forward and backward passes itself (float64, as NumPy does) and draws ||dC/dW^(l)||
// per block, so the widget is live in the static book where no kernel runs:
//   Z = W H + b; U = norm(Z) (gamma 1, beta 0, eps 1e-5); A = sigmoid(U);
//   H' = H + A (residual) or A;  C = sum(R * H^(L)) / m.
//
// For tests: root class bp-gradient-flow; numbers in [data-readout=KEY] with the full value
// in data-value (depth, first, last, ratio) and all norms in data-norms (JSON) on the root;
// the slider carries data-param="depth", the checkbox data-param="residual", the radios
// name the norm in their value.

const EPS = 1e-5;
const NORMS = { none: "none", batch: "batch norm", layer: "layer norm" };

function fmt(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return (a < 1e-2 || a >= 1e3 ? v.toExponential(2) : v.toPrecision(3)).replace(/-/g, "\u2212");
}

// ---------------------------------------------------------------- the network, in JS

// y (n x m) = W (n x n) x (n x m) + b, all row-major Float64Arrays
function affine(W, x, b, n, m) {
  const y = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const w = W[i * n + k];
      for (let j = 0; j < m; j++) y[i * m + j] += w * x[k * m + j];
    }
    for (let j = 0; j < m; j++) y[i * m + j] += b[i];
  }
  return y;
}
// the groups a norm averages over: batch norm a row (over samples), layer norm a column
function groups(kind, n, m) {
  const out = [];
  if (kind === "batch") for (let i = 0; i < n; i++) out.push(Array.from({ length: m }, (_, j) => i * m + j));
  else for (let j = 0; j < m; j++) out.push(Array.from({ length: n }, (_, i) => i * m + j));
  return out;
}
function normForward(z, kind, n, m) {
  const xh = new Float64Array(z.length), inv = new Float64Array(z.length);
  for (const g of groups(kind, n, m)) {
    let mean = 0;
    for (const p of g) mean += z[p];
    mean /= g.length;
    let v = 0;
    for (const p of g) v += (z[p] - mean) ** 2;
    const s = 1 / Math.sqrt(v / g.length + EPS);
    for (const p of g) { xh[p] = (z[p] - mean) * s; inv[p] = s; }
  }
  return { xh, inv };
}
function normBackward(du, cache, kind, n, m) {
  const dz = new Float64Array(du.length);
  for (const g of groups(kind, n, m)) {
    let a = 0, b = 0;
    for (const p of g) { a += du[p]; b += du[p] * cache.xh[p]; }
    a /= g.length; b /= g.length;
    for (const p of g) dz[p] = cache.inv[p] * (du[p] - a - cache.xh[p] * b);
  }
  return dz;
}
export function blockNorms(setup, depth, residual, norm) {
  const n = setup.width, m = setup.batch;
  const W = setup.W.map((w) => Float64Array.from(w)), b = setup.b.map((v) => Float64Array.from(v));
  let H = Float64Array.from(setup.H0);
  const caches = [];
  for (let l = 0; l < depth; l++) {
    const z = affine(W[l], H, b[l], n, m);
    const nc = norm === "none" ? null : normForward(z, norm, n, m);
    const u = nc ? nc.xh : z;
    const a = u.map((t) => 1 / (1 + Math.exp(-t)));
    caches.push({ H, a, nc });
    H = residual ? H.map((h, p) => h + a[p]) : a;
  }
  let G = Float64Array.from(setup.R, (r) => r / m);
  const norms = new Array(depth);
  for (let l = depth - 1; l >= 0; l--) {
    const { H: Hin, a, nc } = caches[l];
    const du = G.map((g, p) => g * a[p] * (1 - a[p]));
    const dz = nc ? normBackward(du, nc, norm, n, m) : du;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        let s = 0;
        for (let j = 0; j < m; j++) s += dz[i * m + j] * Hin[k * m + j];
        sq += s * s;
      }
    }
    norms[l] = Math.sqrt(sq);
    const dH = residual ? Float64Array.from(G) : new Float64Array(n * m);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < n; i++) {
        const w = W[l][i * n + k];
        for (let j = 0; j < m; j++) dH[k * m + j] += w * dz[i * m + j];
      }
    }
    G = dH;
  }
  return norms;
}

// ---------------------------------------------------------------- the widget

function render({ model, el }) {
  const uid = "bpgf-" + Math.random().toString(36).slice(2, 9);
  const setup = model.get("setup");
  const maxDepth = setup.max_depth;
  const root = html("div", { class: "bp-gradient-flow" }, el);
  const commit = committer(model);
  html("p", { class: "bp-title" }, root, `Gradient per block in a network of sigmoid blocks (width ${setup.width}, batch ${setup.batch})`);
  const controls = html("div", { class: "bp-controls" }, root);
  const row = html("div", { class: "bp-slider" }, controls);
  const sid = `${uid}-depth`;
  html("label", { for: sid }, row, "depth L");
  const slider = html("input", { type: "range", id: sid, min: 1, max: maxDepth, step: 1, "data-param": "depth", ...KEYS_TO_US }, row);
  const out = html("output", { for: sid, "data-readout": "depth" }, row);
  slider.addEventListener("input", () => commit("depth", slider.valueAsNumber));
  const check = html("div", { class: "bp-check" }, controls);
  const cid = `${uid}-res`;
  const box = html("input", { type: "checkbox", id: cid, "data-param": "residual", ...KEYS_TO_US }, check);
  html("label", { for: cid }, check, "residual connection");
  box.addEventListener("change", () => commit("residual", box.checked));
  const field = html("fieldset", {}, controls);
  html("legend", {}, field, "norm");
  const radios = {};
  for (const [key, label] of Object.entries(NORMS)) {
    const id = `${uid}-${key}`;
    const r = html("input", { type: "radio", id, name: `${uid}-norm`, value: key, ...KEYS_TO_US }, field);
    html("label", { for: id }, field, label);
    r.addEventListener("change", () => r.checked && commit("norm", key));
    radios[key] = r;
  }

  const Wpx = 720, Hpx = 300, L = 76, R = 704, T = 12, B = 252;
  const chart = svg("svg", { viewBox: `0 0 ${Wpx} ${Hpx}`, role: "img" }, root);
  const table = html("table", { class: "bp-table" }, root);
  const cell = (key) => {
    const tr = html("tr", {}, table);
    const th = html("th", { scope: "row" }, tr);
    return { th, td: html("td", { "data-readout": key, "data-value": "" }, tr) };
  };
  const cells = { last: cell("last"), first: cell("first"), ratio: cell("ratio") };
  const source = html("p", { class: "bp-source" }, root, "computed in your browser");
  const voice = speaker(root);

  function draw(norms) {
    const depth = norms.length;
    chart.replaceChildren();
    const pos = norms.filter((v) => v > 0);
    const lo = Math.floor(Math.log10(Math.min(...pos))), hi = Math.max(Math.ceil(Math.log10(Math.max(...pos))), lo + 1);
    const X = (l) => L + (depth === 1 ? 0.5 : (l - 1) / (depth - 1)) * (R - L);
    const Y = (v) => B - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (B - T);
    svg("rect", { x: L, y: T, width: R - L, height: B - T, class: "bp-plot-area" }, chart);
    const axes = svg("g", { class: "bp-axes" }, chart);
    const stride = Math.ceil((hi - lo) / 8);
    for (let d = lo; d <= hi; d += stride) {
      svg("line", { x1: L, y1: Y(10 ** d), x2: R, y2: Y(10 ** d), class: "bp-grid-line" }, axes);
      svg("text", { x: L - 8, y: Y(10 ** d) + 5, "text-anchor": "end" }, axes).textContent = `1e${d}`.replace("-", "\u2212");
    }
    const every = Math.ceil(depth / 10);
    for (let l = 1; l <= depth; l++) {
      if (l === 1 || l === depth || l % every === 0) {
        svg("line", { x1: X(l), y1: B, x2: X(l), y2: B + 5 }, axes);
        svg("text", { x: X(l), y: B + 21, "text-anchor": "middle" }, axes).textContent = String(l);
      }
    }
    svg("text", { x: (L + R) / 2, y: Hpx - 6, "text-anchor": "middle", class: "bp-axis-label" }, chart).textContent = "block l (backprop runs right to left)";
    svg("text", { x: 0, y: 0, "text-anchor": "middle", class: "bp-axis-label", transform: `translate(16 ${(T + B) / 2}) rotate(-90)` }, chart).textContent = "‖dC/dW⁽ˡ⁾‖ (log)";
    const g = svg("g", { class: "bp-norms" }, chart);
    svg("polyline", { points: norms.map((v, k) => `${X(k + 1).toFixed(1)},${Y(v).toFixed(1)}`).join(" ") }, g);
    norms.forEach((v, k) => svg("path", { d: "M-4,0 a4,4 0 1,0 8,0 a4,4 0 1,0 -8,0", transform: `translate(${X(k + 1)} ${Y(v)})` }, g));
  }
  function redraw() {
    const t0 = performance.now();
    const depth = model.get("depth"), residual = model.get("residual"), norm = model.get("norm");
    if (slider.valueAsNumber !== depth) slider.value = String(depth);
    box.checked = residual;
    radios[norm].checked = true;
    showText(out, depth, String(depth));
    const norms = blockNorms(setup, depth, residual, norm);
    draw(norms);
    const first = norms[0], last = norms[depth - 1];
    cells.last.th.textContent = `‖dC/dW‖ in block ${depth} (where backprop starts)`;
    cells.first.th.textContent = "‖dC/dW‖ in block 1 (where it ends)";
    cells.ratio.th.textContent = "block 1 / block L";
    showText(cells.last.td, last, fmt(last));
    showText(cells.first.td, first, fmt(first));
    showText(cells.ratio.td, first / last, fmt(first / last));
    root.dataset.norms = JSON.stringify(norms);
    const words = `${depth} blocks, ${residual ? "residual" : "plain"}, ${NORMS[norm]}: the gradient of the ` +
      `weights is ${fmt(last)} in block ${depth} and ${fmt(first)} in block 1.`;
    chart.setAttribute("aria-label", "Gradient norm per block, log scale. " + words);
    voice.say(words);
    redrawn(root, t0);
  }
  for (const name of ["depth", "residual", "norm"]) model.on(`change:${name}`, redraw);
  redraw();
  return () => {
    voice.stop();
    for (const name of ["depth", "residual", "norm"]) model.off(`change:${name}`, redraw);
  };
}

export default { render };
