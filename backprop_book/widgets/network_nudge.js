// Front end of backprop_book.widgets.NetworkNudge (network_nudge.py) (an anywidget ES module).
//
// A fully connected network, one sample: z(l) = W(l) a(l-1) + b(l), a(0) = x; sigmoid hidden
// layers; the output is either sigmoid with C = 1/2 sum_j (a_j - y_j)^2 ("sigmoid-mse") or
// softmax s with C = -sum_j y_j log s_j ("softmax-ce", output delta s - y). This file
// computes the forward and backward pass itself (float64, the reference's formulas), so the
// widget is live in the static book, where no kernel runs. It also pings the kernel: when one
// answers, the numbers shown are the kernel's (the chapter's NumPy code) whenever they were
// computed for the values on screen. The label [data-readout=source] always says which.
//
// Parameters are one flat list in the reference's order: W1 row by row, b1, W2, b2, ...;
// "W2[1,3]" (1-based, as in the text) is the weight to neuron 1 of layer 2 from neuron 3.
//
// For tests: the root has class bp-network-nudge; every number sits in [data-readout=KEY]
// with its full-precision value in data-value (C, diagram_C, gradient, step,
// predicted_change, actual_change, a{l}_{j}, delta{l}_{j}, dW{l}_{j}_{k}, db{l}_{j}, and for
// softmax s{j}, s_minus_y{j}); each edge and neuron carries its flat index and its weight or
// bias (data-index, data-weight, data-bias); sliders carry data-param (value, step, x1..,
// y1..); each redraw writes its duration in ms to el.dataset.lastUpdateMs (and to the root,
// with a redraw count). Colours (Okabe-Ito) and sizes live in network_nudge.css.

// JupyterLab binds the arrow keys to cell navigation; Lumino leaves a key alone when the
// focused element itself carries this attribute.
const SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹";
const SUB = "₀₁₂₃₄₅₆₇₈₉";

// --- the mathematics ------------------------------------------------------------------------

/** σ(z) with e^{-|z|}, which never overflows (the reference's formula). */
const sigmoid = (z) => {
  const e = Math.exp(-Math.abs(z));
  return z >= 0 ? 1 / (1 + e) : e / (1 + e);
};

/** Layer l = 1..L as {n, nPrev, offW, offB}: where its W (row by row) and b sit in flat. */
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

/** The 1-based name of flat parameter i: "W2[1,3]" or "b1[2]". */
export function paramName(sizes, i) {
  const { layers } = layout(sizes);
  for (let l = 1; l < layers.length; l++) {
    const { n, nPrev, offW, offB } = layers[l];
    if (i < offB) return `W${l}[${Math.floor((i - offW) / nPrev) + 1},${((i - offW) % nPrev) + 1}]`;
    if (i < offB + n) return `b${l}[${i - offB + 1}]`;
  }
  throw new Error(`no parameter ${i} in a ${sizes.join("-")} network`);
}

function forwardPass(sizes, layers, flat, x, output) {
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
  return { a, z };
}

/** The pass for one sample: activations a, pre-activations z, deltas, flat gradient, C. */
export function forwardBackward(sizes, flat, x, y, output) {
  const { layers, count } = layout(sizes);
  const L = sizes.length - 1;
  const { a, z } = forwardPass(sizes, layers, flat, x, output);
  let C = 0;
  const delta = new Array(L + 1).fill(null);
  if (output === "softmax-ce") { // C = -Σ y_j log s_j with log s = z - logsumexp(z)
    const m = Math.max(...z[L]);
    const lse = m + Math.log(z[L].reduce((p, v) => p + Math.exp(v - m), 0));
    for (let j = 0; j < sizes[L]; j++) C -= y[j] * (z[L][j] - lse);
    delta[L] = a[L].map((s, j) => s - y[j]); // δ(L) = s − y
  } else { // C = ½ Σ (a_j − y_j)², δ(L) = (a − y) ⊙ σ'(z) = (a − y) a (1 − a)
    for (let j = 0; j < sizes[L]; j++) C += 0.5 * (a[L][j] - y[j]) ** 2;
    delta[L] = a[L].map((v, j) => (v - y[j]) * v * (1 - v));
  }
  for (let l = L - 1; l >= 1; l--) { // δ(l) = W(l+1)ᵀ δ(l+1) ⊙ σ'(z(l))
    const { n, nPrev, offW } = layers[l + 1];
    delta[l] = new Array(nPrev);
    for (let k = 0; k < nPrev; k++) {
      let g = 0;
      for (let j = 0; j < n; j++) g += flat[offW + j * nPrev + k] * delta[l + 1][j];
      delta[l][k] = g * a[l][k] * (1 - a[l][k]);
    }
  }
  const grad = new Array(count); // ∂C/∂W(l)[j,k] = δ(l)_j a(l-1)_k,  ∂C/∂b(l)_j = δ(l)_j
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

/** A number for humans, a true minus sign, never "−0": `digits` decimals from 0.1 up, else
 *  digits − 1 significant ones (0.00190), scientific below 0.001 (9.41e−4). */
function fmt(v, digits = 4) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  let t = a >= 0.1 || a === 0 ? v.toFixed(digits)
    : a >= 1e-3 ? v.toPrecision(digits - 1) : v.toExponential(digits - 2);
  if (/^-0\.?0*$/.test(t)) t = t.slice(1);
  return t.replace(/-/g, "\u2212");
}
/** A slider value: two decimals when it sits on the slider's grid, four otherwise. */
const fmtValue = (v) => fmt(v, Math.abs(v * 100 - Math.round(v * 100)) < 1e-9 ? 2 : 4);
/** "W2[1,3]" as the text writes it: W²[1,3]. */
const pretty = (name) => name.replace(/^([Wb])(\d+)/, (_, p, l) => p + [...l].map((c) => SUP[c]).join(""));
const sub = (i) => [...String(i)].map((c) => SUB[c]).join("");

/** Show a number: rounded text for people, the full float in data-value for tests. */
function showNumber(node, v, digits) {
  node.textContent = fmt(v, digits);
  node.setAttribute("data-value", String(v));
}
function setAll(node, attrs) {
  for (const k in attrs) node.setAttribute(k, attrs[k]);
}

// --- the drawing of the network ---------------------------------------------------------------

const G = { W: 720, left: 50, right: 530, top: 60, r: 27, inputPitch: 80, neuronPitch: 112 };
const PILL = G.r + 13; // a neuron's bias pill is centred this far above it, its δ pill below

/** Where layer l's neuron j sits: hidden and output neurons get room for a bias and a δ. */
function geometry(sizes) {
  const L = sizes.length - 1;
  const span = Math.max(G.inputPitch * sizes[0], G.neuronPitch * Math.max(...sizes.slice(1)));
  const X = (l) => G.left + (l * (G.right - G.left)) / L;
  const Y = (l, j) => G.top + ((j + 0.5) * span) / sizes[l];
  return { L, X, Y, H: G.top + span + 4 };
}

/** "label value" on a white rounded pill centred at (x, y); the value may be a readout. */
function pill(parent, x, y, width, label, key, cls) {
  const g = svg("g", { class: "bp-pill" + (cls ? " " + cls : "") }, parent);
  const rect = svg("rect", { x: x - width / 2, y: y - 10, width, height: 20, rx: 7 }, g);
  const text = svg("text", { x, y: y + 4.5, "text-anchor": "middle" }, g);
  svg("tspan", {}, text, label);
  const value = svg("tspan", key ? { "data-readout": key, "data-value": "" } : {}, text);
  return { g, rect, text, value };
}

function buildEdges(parent, sizes, geo, select) {
  const { layers } = layout(sizes);
  const edges = [];
  for (let l = 1; l <= geo.L; l++) {
    const { n, nPrev, offW } = layers[l];
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < nPrev; k++) {
        const i = offW + j * nPrev + k;
        const ends = { x1: geo.X(l - 1), y1: geo.Y(l - 1, k), x2: geo.X(l), y2: geo.Y(l, j) };
        const g = svg("g", { class: "bp-edge" }, parent);
        svg("line", { ...ends, class: "bp-hit" }, g);
        const line = svg("line", { ...ends, class: "bp-wedge", "data-index": i }, g);
        const title = svg("title", {}, g);
        g.addEventListener("click", () => select(i));
        edges.push({ i, ends, line, title });
      }
    }
  }
  return edges;
}

function buildNeurons(parent, labels, sizes, geo, select) {
  const { layers } = layout(sizes);
  const nodes = [];
  for (let k = 0; k < sizes[0]; k++) {
    const x = geo.X(0), y = geo.Y(0, k);
    svg("circle", { cx: x, cy: y, r: G.r, class: "bp-input" }, parent);
    const value = svg("text", { x, y: y + 5, "text-anchor": "middle", class: "bp-value",
      "data-readout": `a0_${k + 1}`, "data-value": "" }, parent);
    svg("text", { x, y: y + G.r + 17, "text-anchor": "middle", class: "bp-name" }, parent, `x${sub(k + 1)}`);
    nodes.push({ l: 0, j: k, value });
  }
  for (let l = 1; l <= geo.L; l++) {
    for (let j = 0; j < sizes[l]; j++) {
      const x = geo.X(l), y = geo.Y(l, j), i = layers[l].offB + j;
      const g = svg("g", { class: "bp-neuron" }, parent);
      const circle = svg("circle", { cx: x, cy: y, r: G.r, "data-index": i }, g);
      const value = svg("text", { x, y: y + 5, "text-anchor": "middle", class: "bp-value",
        "data-readout": `a${l}_${j + 1}`, "data-value": "" }, g);
      const title = svg("title", {}, g);
      const bias = pill(labels, x, y - PILL, 88, "b = ", null, "bp-bias");
      const delta = pill(labels, x, y + PILL, 100, "δ = ", `delta${l}_${j + 1}`, "bp-delta");
      for (const part of [g, bias.g]) part.addEventListener("click", () => select(i));
      nodes.push({ l, j, i, x, circle, value, title, bias, delta });
    }
  }
  return nodes;
}

function buildDiagram(root, sizes, select) {
  const geo = geometry(sizes);
  const d = svg("svg", { class: "bp-net", viewBox: `0 0 ${G.W} ${geo.H}`, role: "img" }, root);
  const L = geo.L, Xc = 682, Ymid = G.top + (geo.H - G.top) / 2;
  for (let l = 0; l <= L; l++) {
    const title = l === 0 ? "inputs x" : l === L ? "output layer" : `hidden layer ${l}`;
    svg("text", { x: geo.X(l), y: 24, "text-anchor": "middle", class: "bp-layer" }, d, title);
  }
  const halo = svg("line", { class: "bp-halo" }, d);
  const edges = buildEdges(svg("g", {}, d), sizes, geo, select);
  const labels = svg("g", {}, d);
  const nodes = buildNeurons(svg("g", {}, d), labels, sizes, geo, select);
  d.appendChild(labels); // pills above the neurons and edges
  const targets = [];
  for (let j = 0; j < sizes[L]; j++) {
    const t = svg("text", { x: geo.X(L) + G.r + 12, y: geo.Y(L, j) + 5, class: "bp-target-label" }, d);
    targets.push(t);
  }
  svg("rect", { x: Xc - 38, y: Ymid - 30, width: 76, height: 56, rx: 8, class: "bp-cost" }, d);
  svg("text", { x: Xc, y: Ymid - 10, "text-anchor": "middle", class: "bp-name" }, d, "cost C");
  const cost = svg("text", { x: Xc, y: Ymid + 14, "text-anchor": "middle", class: "bp-strong",
    "data-readout": "diagram_C", "data-value": "" }, d);
  const chosen = pill(d, 0, 0, 60, "", null, "bp-chosen");
  return { svg: d, geo, halo, edges, nodes, targets, cost, chosen };
}

/** A pill as wide as its text: about 7.3 px a character at 13 px (8 when bold), no layout. */
function fitPill(p, x, chars, bold) {
  const width = (bold ? 8 : 7.3) * chars + 12;
  setAll(p.rect, { x: (x - width / 2).toFixed(1), width: width.toFixed(1) });
}

/** The nudged weight's name on a pill at its edge's middle, clear of the neurons' pills. */
function placeName(chosen, ends, name) {
  const mx = (ends.x1 + ends.x2) / 2, my = (ends.y1 + ends.y2) / 2;
  fitPill(chosen, 0, name.length, true);
  chosen.g.setAttribute("transform", `translate(${mx.toFixed(1)} ${my.toFixed(1)})`);
  chosen.g.setAttribute("visibility", "visible");
  chosen.text.firstChild.textContent = name;
}

function updateEdges(dg, s, num) {
  let gmax = 1e-12;
  for (const e of dg.edges) gmax = Math.max(gmax, Math.abs(num.grad[e.i]));
  for (const e of dg.edges) {
    const g = num.grad[e.i], name = pretty(paramName(s.sizes, e.i));
    const width = 1 + (7 * Math.abs(g)) / gmax;
    setAll(e.line, { "stroke-width": width.toFixed(2), "data-weight": String(s.flat[e.i]),
      "data-gradient": String(g), class: "bp-wedge " + (g >= 0 ? "bp-pos" : "bp-neg") });
    e.title.textContent = `${name} = ${fmtValue(s.flat[e.i])}, ∂C/∂${name} = ${fmt(g)} ` +
      `(${g >= 0 ? "positive: solid" : "negative: dashed"}); click to nudge it`;
    if (e.i === s.param) {
      setAll(dg.halo, { ...e.ends, "stroke-width": (width + 12).toFixed(2), visibility: "visible" });
      placeName(dg.chosen, e.ends, name);
    }
  }
  if (!dg.edges.some((e) => e.i === s.param)) {
    dg.halo.setAttribute("visibility", "hidden");
    dg.chosen.g.setAttribute("visibility", "hidden");
  }
}

function updateNeurons(dg, s, num) {
  for (const nd of dg.nodes) {
    showNumber(nd.value, num.a[nd.l][nd.j], nd.l === 0 ? 2 : 3);
    if (nd.l === 0) continue;
    const chosen = nd.i === s.param, b = s.flat[nd.i], name = pretty(paramName(s.sizes, nd.i));
    showNumber(nd.delta.value, num.delta[nd.l][nd.j], 4);
    nd.bias.value.textContent = fmtValue(b);
    fitPill(nd.delta, nd.x, 4 + nd.delta.value.textContent.length, false);
    fitPill(nd.bias, nd.x, 4 + nd.bias.value.textContent.length, chosen);
    nd.circle.setAttribute("data-bias", String(b));
    nd.circle.classList.toggle("bp-chosen-node", chosen);
    nd.bias.g.classList.toggle("bp-chosen", chosen);
    nd.title.textContent = `neuron ${nd.j + 1} of layer ${nd.l}: a = ${fmt(num.a[nd.l][nd.j])}, ` +
      `δ = ${fmt(num.delta[nd.l][nd.j])}, bias ${name} = ${fmtValue(b)}; click to nudge the bias`;
  }
}

function updateDiagram(dg, s, num) {
  updateEdges(dg, s, num);
  updateNeurons(dg, s, num);
  const L = dg.geo.L;
  dg.targets.forEach((t, j) => { t.textContent = `y${sub(j + 1)} = ${fmtValue(s.y[j])}`; });
  showNumber(dg.cost, num.C);
  const outs = num.a[L].map((v) => fmt(v, 3)).join(", ");
  dg.svg.setAttribute("aria-label",
    `A ${s.sizes.join("-")} network drawn left to right: inputs ${s.x.map(fmtValue).join(", ")}; ` +
    `each neuron shows its activation, its bias above and its delta below. Outputs ${outs}, ` +
    `targets ${s.y.map(fmtValue).join(", ")}, cost C = ${fmt(num.C)}. Edge width shows the size ` +
    `of each weight's gradient; solid edges have a positive gradient, dashed edges a negative ` +
    `one. Nudged: ${pretty(paramName(s.sizes, s.param))}, marked by a grey halo and its name.`);
}

function buildLegend(parent) {
  const ul = html("ul", { class: "bp-legend" }, parent);
  const item = (draw, text) => {
    const li = html("li", {}, ul);
    const sw = svg("svg", { width: 36, height: 16, viewBox: "0 0 36 16", "aria-hidden": "true" }, li);
    draw(sw);
    html("span", {}, li, text);
  };
  item((sw) => svg("line", { x1: 2, y1: 8, x2: 34, y2: 8, class: "bp-wedge bp-pos", "stroke-width": 3 }, sw),
    "∂C/∂w ≥ 0: solid");
  item((sw) => svg("line", { x1: 2, y1: 8, x2: 34, y2: 8, class: "bp-wedge bp-neg", "stroke-width": 3 }, sw),
    "∂C/∂w < 0: dashed");
  item((sw) => {
    svg("line", { x1: 2, y1: 4, x2: 34, y2: 4, class: "bp-wedge bp-pos", "stroke-width": 1 }, sw);
    svg("line", { x1: 2, y1: 11, x2: 34, y2: 11, class: "bp-wedge bp-pos", "stroke-width": 6 }, sw);
  }, "width: size of ∂C/∂w");
  item((sw) => {
    svg("line", { x1: 2, y1: 8, x2: 34, y2: 8, class: "bp-halo", "stroke-width": 14 }, sw);
    svg("line", { x1: 2, y1: 8, x2: 34, y2: 8, class: "bp-wedge bp-pos", "stroke-width": 2 }, sw);
  }, "the nudged weight");
  html("p", { class: "bp-key" }, parent,
    "In each neuron its activation a, above it its bias b, below it its delta δ = ∂C/∂z. " +
    "Click an edge or a neuron to nudge its weight or bias.");
}

// --- controls ---------------------------------------------------------------------------------

function slider(parent, id, label, range, key, onInput) {
  const row = html("div", { class: "bp-slider" }, parent);
  const lab = html("label", { for: id }, row, label);
  const input = html("input", {
    id, type: "range", min: range[0], max: range[1], step: 0.01, "data-param": key, ...KEYS_TO_US,
  }, row);
  const out = html("output", { for: id, "data-value": "" }, row);
  input.addEventListener("input", () => onInput(input.valueAsNumber));
  return { input, out, lab };
}

/** The picker: one <optgroup> per layer, each parameter by its name in the text. */
function buildPicker(parent, sizes, uid, commit) {
  const row = html("div", { class: "bp-pick" }, parent);
  html("label", { for: uid + "-param" }, row, "parameter to nudge");
  const select = html("select", { id: uid + "-param", "data-control": "param", ...KEYS_TO_US }, row);
  const { layers, count } = layout(sizes);
  let group = null;
  for (let i = 0; i < count; i++) {
    const name = paramName(sizes, i), l = Number(name.match(/\d+/)[0]);
    if (i === layers[l].offW) group = html("optgroup", { label: `layer ${l}` }, select);
    const [, j, k] = name.match(/\[(\d+),?(\d*)\]/);
    const what = k ? `weight to neuron ${j} from ${l === 1 ? "input" : "neuron"} ${k}` : `bias of neuron ${j}`;
    html("option", { value: String(i) }, group, `${pretty(name)}: ${what}`);
  }
  select.addEventListener("change", () => commit({ param: Number(select.value) }));
  return select;
}

function buildControls(parent, s, uid, model, commit) {
  const c = {};
  const nudge = html("fieldset", {}, parent);
  html("legend", {}, nudge, "The nudge");
  c.select = buildPicker(nudge, s.sizes, uid, commit);
  c.value = slider(nudge, uid + "-value", "its value", [-4, 4], "value", (v) => {
    const flat = model.get("flat").slice();
    flat[model.get("param")] = v;
    commit({ flat });
  });
  c.step = slider(nudge, uid + "-step", "nudge Δ", [0.01, 1], "step", (v) => commit({ step: v }));
  const data = html("fieldset", {}, parent);
  html("legend", {}, data, s.output === "softmax-ce" ? "Input and true class" : "Input and target");
  const vector = (name, k, v) => {
    const next = model.get(name).slice();
    next[k] = v;
    commit({ [name]: next });
  };
  c.x = s.x.map((_, k) => slider(data, `${uid}-x${k + 1}`, `input x${sub(k + 1)}`, [-3, 3], `x${k + 1}`,
    (v) => vector("x", k, v)));
  if (s.output === "softmax-ce") {
    const row = html("div", { class: "bp-pick" }, data);
    html("label", { for: uid + "-class" }, row, "true class");
    c.cls = html("select", { id: uid + "-class", "data-control": "class", ...KEYS_TO_US }, row);
    s.y.forEach((_, j) => html("option", { value: String(j) }, c.cls, `class ${j + 1}`));
    c.cls.addEventListener("change", () =>
      commit({ y: s.y.map((_, j) => (j === Number(c.cls.value) ? 1 : 0)) }));
  } else {
    c.y = s.y.map((_, j) => slider(data, `${uid}-y${j + 1}`, `target y${sub(j + 1)}`, [0, 1], `y${j + 1}`,
      (v) => vector("y", j, v)));
  }
  return c;
}

function put(sl, v) {
  if (sl.input.valueAsNumber !== v) sl.input.value = String(v);
  sl.out.textContent = fmtValue(v);
  sl.out.setAttribute("data-value", String(v));
}

function updateControls(c, s) {
  const v = s.flat[s.param];
  c.select.value = String(s.param);
  // The value slider spans [−4, 4], widened to whole numbers around a value outside it.
  c.value.input.min = String(Math.min(-4, Math.floor(v)));
  c.value.input.max = String(Math.max(4, Math.ceil(v)));
  c.value.lab.textContent = `value of ${pretty(paramName(s.sizes, s.param))}`;
  put(c.value, v);
  put(c.step, s.step);
  c.x.forEach((sl, k) => put(sl, s.x[k]));
  if (c.y) c.y.forEach((sl, j) => put(sl, s.y[j]));
  if (c.cls) c.cls.value = String(s.y.indexOf(1));
}

// --- the numbers ------------------------------------------------------------------------------

function row(table, label, key, cls) {
  const tr = html("tr", cls ? { class: cls } : {}, table);
  const th = html("th", { scope: "row" }, tr, label);
  return { tr, th, td: html("td", { "data-readout": key, "data-value": "" }, tr) };
}

function buildNumbers(parent) {
  const table = html("table", { class: "bp-table" }, parent);
  html("caption", {}, table, "The cost and the nudge");
  const t = {};
  t.C = row(table, "cost C", "C", "bp-strong");
  t.gradient = row(table, "gradient", "gradient");
  t.step = row(table, "nudge Δ", "step");
  t.predicted_change = row(table, "predicted change = gradient × Δ", "predicted_change");
  t.actual_change = row(table, "actual change", "actual_change");
  return t;
}

function updateNumbers(t, s, num) {
  const P = pretty(paramName(s.sizes, s.param));
  t.gradient.th.textContent = `gradient ∂C/∂${P} (backprop)`;
  t.step.th.textContent = `nudge Δ${P}`;
  t.actual_change.th.textContent = `actual change C(${P} + Δ) − C(${P})`;
  for (const key of ["C", "gradient", "predicted_change", "actual_change"]) showNumber(t[key].td, num[key]);
  showNumber(t.step.td, s.step);
}

/** Every gradient by backprop, one small matrix per layer: ∂C/∂W(l) and ∂C/∂b(l). */
function buildGradients(parent, sizes) {
  const box = html("details", { class: "bp-grads" }, parent);
  html("summary", {}, box, "Every gradient, by backprop: ∂C/∂W and ∂C/∂b of each layer");
  const { layers } = layout(sizes);
  const cells = [];
  for (let l = 1; l < sizes.length; l++) {
    const { n, nPrev, offW, offB } = layers[l];
    const table = html("table", { class: "bp-table bp-matrix" }, box);
    html("caption", {}, table, `layer ${l}: row j = to neuron j, column k = from ${l === 1 ? "input" : "neuron"} k`);
    const head = html("tr", {}, table);
    html("td", {}, head);
    for (let k = 1; k <= nPrev; k++) html("th", { scope: "col" }, head, `∂C/∂W${SUP[l]}[j,${k}]`);
    html("th", { scope: "col" }, head, `∂C/∂b${SUP[l]}[j]`);
    for (let j = 1; j <= n; j++) {
      const tr = html("tr", {}, table);
      html("th", { scope: "row" }, tr, `j = ${j}`);
      for (let k = 1; k <= nPrev; k++) {
        const td = html("td", { "data-readout": `dW${l}_${j}_${k}`, "data-value": "" }, tr);
        cells.push({ i: offW + (j - 1) * nPrev + (k - 1), td });
      }
      cells.push({ i: offB + j - 1, td: html("td", { "data-readout": `db${l}_${j}`, "data-value": "" }, tr) });
    }
  }
  return cells;
}

function updateGradients(cells, s, num) {
  for (const c of cells) {
    showNumber(c.td, num.grad[c.i]);
    c.td.classList.toggle("bp-studied", c.i === s.param);
  }
}

/** Softmax output: bars of the probabilities s_j, the true class's target marked, s − y. */
function buildBars(parent, n) {
  const box = html("div", { class: "bp-bars" }, parent);
  html("p", { class: "bp-bars-title" }, box, "Softmax probabilities s and the output delta s − y");
  const W = 30 + 116 * n, base = 132, top = 32;
  const d = svg("svg", { viewBox: `0 0 ${W} 200`, role: "img", class: "bp-bars-svg" }, box);
  for (const [p, label] of [[0.5, "0.5"], [1, "1"]]) { // light grid: read a bar's height
    svg("line", { x1: 34, x2: W - 10, y1: base - (base - top) * p, y2: base - (base - top) * p, class: "bp-grid" }, d);
    svg("text", { x: 30, y: base - (base - top) * p + 5, "text-anchor": "end", class: "bp-name" }, d, label);
  }
  svg("text", { x: 30, y: base + 5, "text-anchor": "end", class: "bp-name" }, d, "0");
  svg("line", { x1: 34, x2: W - 10, y1: base, y2: base, class: "bp-axis" }, d);
  const bars = [];
  for (let j = 0; j < n; j++) {
    const cx = 90 + 116 * j;
    const rect = svg("rect", { x: cx - 26, y: base, width: 52, height: 0, class: "bp-bar" }, d);
    const target = svg("line", { x1: cx - 36, x2: cx + 36, y1: top, y2: top, class: "bp-target-line" }, d);
    const targetText = svg("text", { x: cx, y: top - 8, "text-anchor": "middle", class: "bp-name" }, d, "target y = 1");
    const label = svg("text", { x: cx, y: base + 18, "text-anchor": "middle", class: "bp-strong" }, d);
    const sText = svg("text", { x: cx, y: base + 36, "text-anchor": "middle" }, d);
    svg("tspan", {}, sText, `s${sub(j + 1)} = `);
    const val = svg("tspan", { "data-readout": `s${j + 1}`, "data-value": "" }, sText);
    const gText = svg("text", { x: cx, y: base + 54, "text-anchor": "middle" }, d);
    svg("tspan", {}, gText, "s − y = ");
    const gv = svg("tspan", { "data-readout": `s_minus_y${j + 1}`, "data-value": "" }, gText);
    bars.push({ rect, target, targetText, label, val, gv });
  }
  return { svg: d, bars, base, scale: base - top };
}

function updateBars(b, s, num) {
  const L = s.sizes.length - 1;
  b.bars.forEach((bar, j) => {
    const p = num.a[L][j], h = b.scale * p, truth = s.y[j] === 1;
    setAll(bar.rect, { y: String(b.base - h), height: String(h), class: truth ? "bp-bar bp-truth" : "bp-bar" });
    bar.target.setAttribute("visibility", truth ? "visible" : "hidden");
    bar.targetText.setAttribute("visibility", truth ? "visible" : "hidden");
    bar.label.textContent = `class ${j + 1}` + (truth ? " (true)" : "");
    showNumber(bar.val, p, 3);
    showNumber(bar.gv, num.delta[L][j], 3);
  });
  b.svg.setAttribute("aria-label", "Bar chart of the softmax probabilities: " +
    num.a[L].map((p, j) => `class ${j + 1}${s.y[j] === 1 ? " (the true class, target 1)" : ""} ` +
      `s = ${fmt(p, 3)}, s − y = ${fmt(num.delta[L][j], 3)}`).join("; ") + ".");
}

// --- the widget -------------------------------------------------------------------------------

const SYNCED = ["flat", "x", "y", "param", "step"]; // what the kernel's numbers depend on

function render({ model, el }) {
  const uid = "bpnn-" + Math.random().toString(36).slice(2, 9); // ids unique per view
  const root = html("div", { class: "bp-network-nudge" }, el);
  const commit = committer(model);
  const head = html("div", { class: "bp-head" }, root);
  html("p", { class: "bp-title" }, head, "Nudge any weight or bias, watch every number move");
  const source = html("p", { class: "bp-source", "data-readout": "source" }, head);
  const state = () => {
    const s = { sizes: model.get("sizes"), output: model.get("output") };
    for (const n of SYNCED) s[n] = model.get(n);
    return s;
  };
  // Who computes: the kernel once it has answered our ping and its numbers are for the
  // values on screen; otherwise this browser.
  const handshake = kernelLink(model);
  const s0 = state();
  const diagram = buildDiagram(root, s0.sizes, (i) => commit({ param: i }));
  buildLegend(root);
  const cols = html("div", { class: "bp-cols" }, root);
  const controls = buildControls(html("div", { class: "bp-controls" }, cols), s0, uid, model, commit);
  const right = html("div", { class: "bp-results" }, cols);
  const numbers = buildNumbers(right);
  const bars = s0.output === "softmax-ce" ? buildBars(right, s0.sizes[s0.sizes.length - 1]) : null;
  const grads = buildGradients(root, s0.sizes);
  const voice = speaker(root);


  function redraw() {
    const t0 = performance.now();
    const s = state();
    const kernel = handshake.numbersFor(s, SYNCED);
    const num = kernel || nudgeNumbers(s);
    handshake.showSource(source, kernel);
    updateDiagram(diagram, s, num);
    updateControls(controls, s);
    updateNumbers(numbers, s, num);
    updateGradients(grads, s, num);
    if (bars) updateBars(bars, s, num);

    voice.say(() => {
      const P = pretty(paramName(s.sizes, s.param));
      return `C = ${fmt(num.C)}, ∂C/∂${P} = ${fmt(num.gradient)}, predicted ` +
        `change ${fmt(num.predicted_change)}, actual change ${fmt(num.actual_change)}.`;
    });

    redrawn(root, t0, el);
  }
  return handshake.connect(redraw, ["change"], voice.stop);
}

export default { render };
