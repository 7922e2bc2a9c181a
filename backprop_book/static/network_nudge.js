// Front end of backprop_book.network_widget.NetworkNudge (an anywidget ES module).
//
// A fully connected network, one sample: z(l) = W(l) a(l-1) + b(l); sigmoid hidden layers;
// the output is either sigmoid with C = 1/2 sum_j (a_j - y_j)^2 ("sigmoid-mse") or softmax
// with C = -sum_j y_j log s_j ("softmax-ce"). This file computes the forward and backward
// pass itself, so the widget is live in the static book; when a kernel answers the ping,
// the numbers shown are the kernel's (the chapter's NumPy code) whenever they were computed
// for the values on screen. [data-readout=source] says which.
//
// Parameters are one flat list in the reference's order: W1 row by row, b1, W2, b2, ...
// For tests: root class bp-network-nudge; numbers in [data-readout=KEY][data-value] (C,
// gradient, predicted_change, actual_change, a{l}_{j}, delta{l}_{j}, s{j}, s_minus_y{j},
// dW{l}_{j}_{k}); each edge and neuron also carries its flat index and full-precision weight
// or bias (data-index, data-weight, data-bias); sliders carry data-param; redraw time in
// root.dataset.lastUpdateMs.

const SVGNS = "http://www.w3.org/2000/svg";
const KEYS_TO_US = { "data-lm-suppress-shortcuts": "true" };

// --- the mathematics ------------------------------------------------------------------------

const sigmoid = (z) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Layer l = 1..L as {W (rows), b, n, nPrev, offW, offB}: where each lives in the flat list. */
export function layout(sizes) {
  const layers = [null];
  let off = 0;
  for (let l = 1; l < sizes.length; l++) {
    const n = sizes[l], nPrev = sizes[l - 1];
    layers.push({ n, nPrev, offW: off, offB: off + n * nPrev });
    off += n * nPrev + n;
  }
  return { layers, count: off };
}

/** "W2[1,3]" (to neuron 1 from neuron 3 of layer 2, 1-based) or "b1[2]" for flat index i. */
export function paramName(sizes, i) {
  const { layers } = layout(sizes);
  for (let l = 1; l < layers.length; l++) {
    const { n, nPrev, offW, offB } = layers[l];
    if (i < offB) return `W${l}[${Math.floor((i - offW) / nPrev) + 1},${((i - offW) % nPrev) + 1}]`;
    if (i < offB + n) return `b${l}[${i - offB + 1}]`;
  }
  throw new Error(`no parameter ${i}`);
}

/** The pass for one sample: activations, deltas, the flat gradient and the cost. */
export function forwardBackward(sizes, flat, x, y, output) {
  const { layers, count } = layout(sizes);
  const L = sizes.length - 1;
  const a = [x.slice()], z = [null];
  for (let l = 1; l <= L; l++) {
    const { n, nPrev, offW, offB } = layers[l];
    const zl = new Array(n);
    for (let j = 0; j < n; j++) {
      let s = flat[offB + j];
      for (let k = 0; k < nPrev; k++) s += flat[offW + j * nPrev + k] * a[l - 1][k];
      zl[j] = s;
    }
    z.push(zl);
    if (l === L && output === "softmax-ce") {
      const m = Math.max(...zl);
      const e = zl.map((v) => Math.exp(v - m));
      const sum = e.reduce((p, q) => p + q, 0);
      a.push(e.map((v) => v / sum));
    } else {
      a.push(zl.map(sigmoid));
    }
  }
  let C = 0;
  const delta = new Array(L + 1).fill(null);
  if (output === "softmax-ce") {
    const zl = z[L], m = Math.max(...zl);
    const lse = m + Math.log(zl.reduce((p, v) => p + Math.exp(v - m), 0));
    for (let j = 0; j < sizes[L]; j++) C -= y[j] * (zl[j] - lse);
    delta[L] = a[L].map((s, j) => s - y[j]);
  } else {
    for (let j = 0; j < sizes[L]; j++) C += 0.5 * (a[L][j] - y[j]) ** 2;
    delta[L] = a[L].map((v, j) => (v - y[j]) * v * (1 - v));
  }
  for (let l = L - 1; l >= 1; l--) {
    const { n, nPrev, offW } = layers[l + 1]; // W(l+1): rows n, columns nPrev = sizes[l]
    delta[l] = new Array(nPrev);
    for (let k = 0; k < nPrev; k++) {
      let g = 0;
      for (let j = 0; j < n; j++) g += flat[offW + j * nPrev + k] * delta[l + 1][j]; // W^T delta
      delta[l][k] = g * a[l][k] * (1 - a[l][k]); // ⊙ σ'(z) = a (1 - a)
    }
  }
  const grad = new Array(count);
  for (let l = 1; l <= L; l++) {
    const { n, nPrev, offW, offB } = layers[l];
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < nPrev; k++) grad[offW + j * nPrev + k] = delta[l][j] * a[l - 1][k];
      grad[offB + j] = delta[l][j];
    }
  }
  return { a, z, delta, grad, C };
}

/** What the kernel publishes, computed here: the pass plus the nudge of parameter s.param. */
export function nudgeNumbers(s) {
  const here = forwardBackward(s.sizes, s.flat, s.x, s.y, s.output);
  const moved = s.flat.slice();
  moved[s.param] += s.step;
  const after = forwardBackward(s.sizes, moved, s.x, s.y, s.output);
  const gradient = here.grad[s.param];
  return { ...here, gradient, predicted_change: gradient * s.step, actual_change: after.C - here.C };
}

// --- formatting and DOM helpers -------------------------------------------------------------

function fmt(v, digits = 4) {
  if (!Number.isFinite(v)) return String(v);
  let t = v !== 0 && Math.abs(v) < 5e-4 ? v.toExponential(2) : v.toFixed(digits);
  if (/^-0\.?0*$/.test(t)) t = t.slice(1);
  return t.replace(/-/g, "\u2212");
}
function html(tag, attrs, parent, text) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  if (parent) parent.appendChild(n);
  return n;
}
function svg(tag, attrs, parent, text) {
  const n = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  if (parent) parent.appendChild(n);
  return n;
}
function show(node, v, digits) {
  node.textContent = fmt(v, digits);
  node.setAttribute("data-value", String(v));
}
const pretty = (name) => name.replace(/^([Wb])(\d)/, (_, p, l) => `${p}${"⁰¹²³⁴⁵⁶⁷⁸⁹"[l]}`);

// --- the drawing ----------------------------------------------------------------------------

function buildDiagram(root, sizes, select) {
  const L = sizes.length - 1, W = 720, H = 70 + 86 * Math.max(...sizes);
  const d = svg("svg", { class: "bp-net", viewBox: `0 0 ${W} ${H}`, role: "img" }, root);
  const X = (l) => 60 + (l * (W - 120)) / L;
  const Y = (l, j) => 40 + ((j + 0.5) * (H - 70)) / sizes[l];
  const edgeLayer = svg("g", {}, d), nodeLayer = svg("g", {}, d);
  const { layers } = layout(sizes);
  const edges = [], nodes = [];
  for (let l = 1; l <= L; l++) {
    const { n, nPrev, offW, offB } = layers[l];
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < nPrev; k++) {
        const i = offW + j * nPrev + k;
        const g = svg("g", { class: "bp-edge-hit", tabindex: "-1" }, edgeLayer);
        svg("line", { x1: X(l - 1), y1: Y(l - 1, k), x2: X(l), y2: Y(l, j), class: "bp-hit" }, g);
        const line = svg("line", { x1: X(l - 1), y1: Y(l - 1, k), x2: X(l), y2: Y(l, j),
          class: "bp-wedge", "data-readout": `dW${l}_${j + 1}_${k + 1}`, "data-value": "" }, g);
        const title = svg("title", {}, g);
        g.addEventListener("click", () => select(i));
        edges.push({ i, line, title });
      }
      const node = svg("g", { class: "bp-neuron" }, nodeLayer);
      node.addEventListener("click", () => select(offB + j));
      const circle = svg("circle", { cx: X(l), cy: Y(l, j), r: 24 }, node);
      const value = svg("text", { x: X(l), y: Y(l, j) + 5, "text-anchor": "middle",
        "data-readout": `a${l}_${j + 1}`, "data-value": "" }, node);
      const delta = svg("text", { x: X(l), y: Y(l, j) + 40, "text-anchor": "middle", class: "bp-delta" }, node);
      svg("tspan", {}, delta, "δ = ");
      const dv = svg("tspan", { "data-readout": `delta${l}_${j + 1}`, "data-value": "" }, delta);
      const db = svg("text", { x: X(l), y: Y(l, j) - 30, "text-anchor": "middle", class: "bp-bias" }, node);
      svg("title", {}, node, `bias b${l}[${j + 1}]: click to nudge it`);
      nodes.push({ l, j, i: offB + j, circle, value, dv, db });
    }
  }
  for (let k = 0; k < sizes[0]; k++) {
    svg("circle", { cx: X(0), cy: Y(0, k), r: 24, class: "bp-input" }, nodeLayer);
    const t = svg("text", { x: X(0), y: Y(0, k) + 5, "text-anchor": "middle", "data-readout": `a0_${k + 1}`, "data-value": "" }, nodeLayer);
    nodes.push({ l: 0, j: k, value: t });
  }
  for (let l = 0; l <= L; l++) {
    svg("text", { x: X(l), y: 18, "text-anchor": "middle", class: "bp-layer" }, d,
      l === 0 ? "inputs x" : l === L ? "outputs" : `hidden layer ${l}`);
  }
  return { svg: d, edges, nodes };
}

function updateDiagram(dg, s, num) {
  const gmax = Math.max(1e-12, ...num.grad.map(Math.abs));
  for (const e of dg.edges) {
    const g = num.grad[e.i];
    e.line.setAttribute("stroke-width", (1 + (7 * Math.abs(g)) / gmax).toFixed(2));
    e.line.setAttribute("class", `bp-wedge ${g >= 0 ? "bp-pos" : "bp-neg"}${e.i === s.param ? " bp-selected" : ""}`);
    e.line.setAttribute("data-value", String(g));
    e.line.setAttribute("data-index", String(e.i));
    e.line.setAttribute("data-weight", String(s.flat[e.i]));
    e.title.textContent = `${paramName(s.sizes, e.i)} = ${fmt(s.flat[e.i], 2)}, dC/d${paramName(s.sizes, e.i)} = ${fmt(g)} (click to nudge it)`;
  }
  for (const nd of dg.nodes) {
    show(nd.value, num.a[nd.l][nd.j], nd.l === 0 ? 2 : 3);
    if (nd.l === 0) continue;
    show(nd.dv, num.delta[nd.l][nd.j], 4);
    nd.circle.setAttribute("class", nd.i === s.param ? "bp-selected-node" : "");
    nd.circle.setAttribute("data-index", String(nd.i));
    nd.circle.setAttribute("data-bias", String(s.flat[nd.i]));
    nd.db.textContent = nd.i === s.param ? `b = ${fmt(s.flat[nd.i], 2)}` : "";
  }
  const L = s.sizes.length - 1;
  dg.svg.setAttribute("aria-label",
    `A ${s.sizes.join("-")} network. Output activations ${num.a[L].map((v) => fmt(v, 3)).join(", ")}; ` +
    `cost ${fmt(num.C)}. Edge width shows the size of each weight's gradient; solid edges have ` +
    `a positive gradient, dashed edges a negative one. Selected: ${paramName(s.sizes, s.param)}.`);
}

// --- controls, numbers, probabilities ---------------------------------------------------------

function slider(parent, id, label, min, max, step, onInput, key) {
  const row = html("div", { class: "bp-slider" }, parent);
  html("label", { for: id }, row, label);
  const input = html("input", { id, type: "range", min, max, step, "data-param": key, ...KEYS_TO_US }, row);
  const out = html("output", { for: id }, row);
  input.addEventListener("input", () => onInput(input.valueAsNumber));
  return { input, out, row };
}

function buildControls(parent, s, uid, commit) {
  const c = {};
  const pick = html("div", { class: "bp-slider" }, parent);
  html("label", { for: uid + "-param" }, pick, "parameter to nudge");
  c.select = html("select", { id: uid + "-param", "data-control": "param", ...KEYS_TO_US }, pick);
  const { count } = layout(s.sizes);
  for (let i = 0; i < count; i++) html("option", { value: String(i) }, c.select, pretty(paramName(s.sizes, i)));
  c.select.addEventListener("change", () => commit({ param: Number(c.select.value) }));
  c.value = slider(parent, uid + "-value", "its value", -4, 4, 0.01, (v) => {
    const flat = c.flat.slice();
    flat[c.param] = v;
    commit({ flat });
  }, "value");
  c.step = slider(parent, uid + "-step", "nudge Δ", 0.01, 1, 0.01, (v) => commit({ step: v }), "step");
  c.x = s.x.map((_, k) => slider(parent, `${uid}-x${k}`, `input x${k + 1}`, -3, 3, 0.01, (v) => {
    const x = c.s.x.slice();
    x[k] = v;
    commit({ x });
  }, `x${k + 1}`));
  if (s.output === "softmax-ce") {
    const row = html("div", { class: "bp-slider" }, parent);
    html("label", { for: uid + "-class" }, row, "true class");
    c.cls = html("select", { id: uid + "-class", "data-control": "class", ...KEYS_TO_US }, row);
    s.y.forEach((_, j) => html("option", { value: String(j) }, c.cls, `class ${j + 1}`));
    c.cls.addEventListener("change", () => commit({ y: s.y.map((_, j) => (j === Number(c.cls.value) ? 1 : 0)) }));
  } else {
    c.y = s.y.map((_, j) => slider(parent, `${uid}-y${j}`, `target y${j + 1}`, 0, 1, 0.01, (v) => {
      const y = c.s.y.slice();
      y[j] = v;
      commit({ y });
    }, `y${j + 1}`));
  }
  return c;
}

function updateControls(c, s) {
  c.s = s;
  c.flat = s.flat;
  c.param = s.param;
  c.select.value = String(s.param);
  const put = (sl, v) => {
    if (document.activeElement !== sl.input) sl.input.value = String(v);
    sl.out.textContent = fmt(v, 2);
    sl.out.setAttribute("data-value", String(v));
  };
  put(c.value, s.flat[s.param]);
  c.value.row.querySelector("label").textContent = `value of ${pretty(paramName(s.sizes, s.param))}`;
  put(c.step, s.step);
  c.x.forEach((sl, k) => put(sl, s.x[k]));
  if (c.y) c.y.forEach((sl, j) => put(sl, s.y[j]));
  if (c.cls) c.cls.value = String(s.y.indexOf(Math.max(...s.y)));
}

function buildNumbers(parent) {
  const table = html("table", { class: "bp-table" }, parent);
  html("caption", {}, table, "The cost and the chosen parameter's gradient");
  const rows = {};
  for (const [key, label] of [["C", "cost C"], ["gradient", "gradient"], ["predicted_change", "predicted change = gradient × Δ"], ["actual_change", "actual change"]]) {
    const tr = html("tr", {}, table);
    const th = html("th", { scope: "row" }, tr, label);
    rows[key] = { th, td: html("td", { "data-readout": key, "data-value": "" }, tr) };
  }
  return rows;
}

function updateNumbers(rows, s, num) {
  const P = pretty(paramName(s.sizes, s.param));
  rows.gradient.th.textContent = `∂C/∂${P}`;
  rows.actual_change.th.textContent = `actual change C(${P} + Δ) − C(${P})`;
  for (const key of Object.keys(rows)) show(rows[key].td, num[key]);
}

function buildBars(parent, n) {
  const box = html("div", { class: "bp-bars" }, parent);
  html("p", { class: "bp-bars-title" }, box, "softmax probabilities s and the gradient s − y at the logits");
  const d = svg("svg", { viewBox: `0 0 ${60 + 90 * n} 170`, role: "img", class: "bp-bars-svg" }, box);
  const bars = [];
  for (let j = 0; j < n; j++) {
    const x = 40 + 90 * j;
    svg("line", { x1: 30, x2: 50 + 90 * n, y1: 130, y2: 130, class: "bp-axis" }, d);
    const rect = svg("rect", { x, y: 130, width: 50, height: 0, class: "bp-bar" }, d);
    const label = svg("text", { x: x + 25, y: 148, "text-anchor": "middle" }, d, `s${j + 1}`);
    const val = svg("text", { x: x + 25, y: 125, "text-anchor": "middle", "data-readout": `s${j + 1}`, "data-value": "" }, d);
    const grad = svg("text", { x: x + 25, y: 165, "text-anchor": "middle", class: "bp-sy" }, d);
    svg("tspan", {}, grad, "s−y: ");
    const gv = svg("tspan", { "data-readout": `s_minus_y${j + 1}`, "data-value": "" }, grad);
    bars.push({ rect, label, val, gv });
  }
  return { svg: d, bars };
}

function updateBars(b, s, num) {
  const L = s.sizes.length - 1;
  b.bars.forEach((bar, j) => {
    const p = num.a[L][j], h = 100 * p;
    bar.rect.setAttribute("y", String(130 - h));
    bar.rect.setAttribute("height", String(h));
    bar.rect.setAttribute("class", s.y[j] === 1 ? "bp-bar bp-target" : "bp-bar");
    bar.label.textContent = s.y[j] === 1 ? `s${j + 1} (true class)` : `s${j + 1}`;
    bar.val.setAttribute("y", String(126 - h));
    show(bar.val, p, 3);
    show(bar.gv, num.delta[L][j], 3);
  });
  b.svg.setAttribute("aria-label", "Bar chart of the softmax probabilities: " +
    num.a[L].map((p, j) => `class ${j + 1}${s.y[j] === 1 ? " (true)" : ""} ${fmt(p, 3)}`).join(", ") + ".");
}

// --- the widget -----------------------------------------------------------------------------

function render({ model, el }) {
  const uid = "bpnn-" + Math.random().toString(36).slice(2, 9);
  const root = html("div", { class: "bp-network-nudge" }, el);
  const head = html("div", { class: "bp-head" }, root);
  html("p", { class: "bp-title" }, head, "Nudge any parameter, watch every number move");
  const source = html("p", { class: "bp-source", "data-readout": "source" }, head);
  const state = () => ({
    sizes: model.get("sizes"), flat: model.get("flat"), x: model.get("x"), y: model.get("y"),
    output: model.get("output"), param: model.get("param"), step: model.get("step"),
  });
  const s0 = state();
  let canSync = true, kernelListening = false;
  const commit = (changes) => {
    model.set(changes);
    if (!canSync) return;
    try { model.save_changes(); } catch (e) { canSync = false; }
  };
  const diagram = buildDiagram(root, s0.sizes, (i) => commit({ param: i }));
  html("p", { class: "bp-key" }, root,
    "Edge width: size of the weight's gradient; solid edge: gradient ≥ 0, dashed: < 0. " +
    "Inside each neuron its activation a, below it its delta δ = ∂C/∂z. Click an edge or a neuron to nudge its weight or bias.");
  const cols = html("div", { class: "bp-cols" }, root);
  const controls = buildControls(html("div", { class: "bp-controls" }, cols), s0, uid, commit);
  const right = html("div", { class: "bp-results" }, cols);
  const numbers = buildNumbers(right);
  const bars = s0.output === "softmax-ce" ? buildBars(right, s0.sizes[s0.sizes.length - 1]) : null;

  const same = (p, q) => JSON.stringify(p) === JSON.stringify(q);
  const kernelNumbersFor = (s) => {
    const k = model.get("kernel");
    if (!kernelListening || !k || !k.inputs) return null;
    for (const n of ["flat", "x", "y", "param", "step"]) if (!same(k.inputs[n], s[n])) return null;
    return k;
  };
  let redraws = 0;
  function redraw() {
    const t0 = performance.now();
    const s = state();
    const kernel = kernelNumbersFor(s);
    const num = kernel || nudgeNumbers(s);
    source.dataset.value = kernel ? "kernel" : "browser";
    source.textContent = kernel ? "Numbers computed by the kernel (NumPy)" : "Numbers computed in your browser (JavaScript)";
    updateDiagram(diagram, s, num);
    updateControls(controls, s);
    updateNumbers(numbers, s, num);
    if (bars) updateBars(bars, s, num);
    redraws += 1;
    el.dataset.lastUpdateMs = root.dataset.lastUpdateMs = (performance.now() - t0).toFixed(3);
    root.dataset.redraws = String(redraws);
  }
  const onMessage = (msg) => {
    if (msg && msg.type === "pong") { kernelListening = true; redraw(); }
  };
  model.on("change", redraw);
  model.on("msg:custom", onMessage);
  redraw();
  model.send({ type: "ping" });
  return () => { model.off("change", redraw); model.off("msg:custom", onMessage); };
}

export default { render };
