// Front end of backprop_book.widgets.ChainNudge (chain_nudge.py) (an anywidget ES module).
//
// The chain:  z1 = w1 x + b1,  a1 = σ(z1),  z2 = w2 a1 + b2,  a2 = σ(z2),  C = (a2 − y)².
//
// This file computes the forward and backward pass itself (float64, the chapter's formulas),
// so the widget stays live in the static book, where no kernel runs. It also pings the
// kernel: when one answers, the numbers shown are the kernel's (NumPy) whenever they were
// computed for the values on screen. The label data-readout="source" always says which.
//
// For tests: the root has class bp-chain-nudge; every number sits in [data-readout=KEY] with
// its full-precision value in data-value; sliders carry data-param; each redraw writes its
// duration in ms to el.dataset.lastUpdateMs (and to the root, with a redraw count).
// Colours (Okabe-Ito) and sizes live in chain_nudge.css.

const PARAMS = ["w1", "b1", "w2", "b2"];
const INPUTS = [...PARAMS, "x", "y"]; // the arguments of forwardBackward, in order
const NAMES = { w1: "w₁", b1: "b₁", w2: "w₂", b2: "b₂" };
const SLIDERS = {
  w1: { min: -4, max: 4, label: "w₁ weight" },
  b1: { min: -4, max: 4, label: "b₁ bias" },
  w2: { min: -4, max: 4, label: "w₂ weight" },
  b2: { min: -4, max: 4, label: "b₂ bias" },
  x: { min: -3, max: 3, label: "x input" },
  y: { min: 0, max: 1, label: "y target" },
  step: { min: 0.01, max: 1, label: "nudge Δ" },
};
const SLIDER_STEP = 0.01;
// JupyterLab and Notebook 7 bind the arrow keys to cell navigation; Lumino leaves a key
// alone when the focused element itself carries this attribute.

// --- the mathematics ------------------------------------------------------------------------

export function sigmoid(z) {
  return 1 / (1 + Math.exp(-z));
}

/** Forward and backward pass of the 1-1-1 chain, the same formulas as the chapter's NumPy. */
export function forwardBackward(w1, b1, w2, b2, x, y) {
  const z1 = w1 * x + b1;
  const a1 = sigmoid(z1);
  const z2 = w2 * a1 + b2;
  const a2 = sigmoid(z2);
  const C = (a2 - y) ** 2;
  const delta2 = 2 * (a2 - y) * a2 * (1 - a2); // dC/dz2
  const delta1 = delta2 * w2 * a1 * (1 - a1); // dC/dz1
  return { z1, a1, z2, a2, C, dC_dw1: delta1 * x, dC_db1: delta1, dC_dw2: delta2 * a1, dC_db2: delta2 };
}

/** The numbers the kernel publishes, computed here: the pass, the gradient, the nudge's effect. */
export function nudgeNumbers(s) {
  const at = (value) => INPUTS.map((n) => (n === s.param ? value : s[n]));
  const here = forwardBackward(...at(s[s.param]));
  const after = forwardBackward(...at(s[s.param] + s.step));
  const gradient = here["dC_d" + s.param];
  return { ...here, gradient, predicted_change: gradient * s.step, actual_change: after.C - here.C };
}

// --- formatting and DOM helpers -------------------------------------------------------------

/** A number for humans: fixed decimals (scientific when tiny), a true minus sign, never "−0". */
function fmt(v, digits = 4) {
  if (!Number.isFinite(v)) return String(v);
  let t = v !== 0 && Math.abs(v) < 5e-4 ? v.toExponential(2) : v.toFixed(digits);
  if (/^-0\.?0*$/.test(t)) t = t.slice(1);
  return t.replace(/-/g, "\u2212");
}
/** A slider value: two decimals when it sits on the slider's grid, four otherwise. */
const fmtValue = (v) => fmt(v, Math.abs(v * 100 - Math.round(v * 100)) < 1e-9 ? 2 : 4);

/** "label = value" in SVG, centred; the value in its own <tspan> (a readout when key is given). */
function labelled(parent, x, y, label, key, cls) {
  const t = svgText(parent, x, y, label + " = ", { "text-anchor": "middle", class: cls || "" });
  const v = svg("tspan", key ? { "data-readout": key, "data-value": "" } : {}, t);
  return { t, v };
}
/** Show a number: rounded text for people, the full float in data-value for tests. */
function showNumber(node, v) {
  node.textContent = fmt(v);
  node.setAttribute("data-value", String(v));
}

/** Axis ticks at 1, 2, 2.5 or 5 × 10^k covering [lo, hi], and the decimals they need. */
/** The smallest "round" number at or above v (the top of the cost axis). */

// --- the parts of the widget: each built once, then updated on every redraw ----------------

function buildDiagram(root, uid) {
  const d = svg("svg", { class: "bp-diagram", viewBox: "0 30 720 142", role: "img" }, root);
  const marker = svg("marker", {
    id: uid + "-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, orient: "auto",
    markerUnits: "userSpaceOnUse", markerWidth: 12, markerHeight: 12,
  }, svg("defs", {}, d));
  svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#333" }, marker);
  const arrow = (x1, x2) =>
    svg("line", { x1, y1: 96, x2, y2: 96, class: "bp-edge", "marker-end": `url(#${uid}-arrow)` }, d);
  const box = (x, width, title) => {
    svg("rect", { x, y: 58, width, height: 76, rx: 10, class: "bp-node" }, d);
    svgText(d, x + width / 2, 48, title, { class: "bp-node-title", "text-anchor": "middle" });
  };
  const n = { svg: d };
  box(4, 80, "input");
  n.x = labelled(d, 44, 101, "x");
  n.e1 = arrow(84, 172);
  n.w1 = labelled(d, 128, 84, "w₁", null, "bp-param");
  box(174, 144, "neuron 1");
  n.z1 = labelled(d, 246, 88, "z₁", "z1");
  n.a1 = labelled(d, 246, 116, "a₁ = σ(z₁)", "a1");
  n.b1 = labelled(d, 246, 160, "+ bias b₁", null, "bp-param");
  n.e2 = arrow(318, 412);
  n.w2 = labelled(d, 365, 84, "w₂", null, "bp-param");
  box(414, 144, "neuron 2");
  n.z2 = labelled(d, 486, 88, "z₂", "z2");
  n.a2 = labelled(d, 486, 116, "a₂ = σ(z₂)", "a2");
  n.b2 = labelled(d, 486, 160, "+ bias b₂", null, "bp-param");
  arrow(558, 612);
  box(614, 102, "cost (a₂ − y)²");
  n.C = labelled(d, 665, 88, "C", "diagram_C", "bp-strong");
  n.y = labelled(d, 665, 116, "y");
  return n;
}

function updateDiagram(n, s, num) {
  for (const p of PARAMS) {
    n[p].v.textContent = fmtValue(s[p]);
    n[p].t.classList.toggle("bp-studied", p === s.param); // bold and underlined, not only coloured
  }
  n.e1.classList.toggle("bp-studied", s.param === "w1");
  n.e2.classList.toggle("bp-studied", s.param === "w2");
  n.x.v.textContent = fmtValue(s.x);
  n.y.v.textContent = fmtValue(s.y);
  for (const k of ["z1", "a1", "z2", "a2", "C"]) showNumber(n[k].v, num[k]);
  n.svg.setAttribute("aria-label",
    `The chain: input x = ${fmtValue(s.x)}, times w₁ = ${fmtValue(s.w1)} plus b₁ = ${fmtValue(s.b1)} ` +
    `gives z₁ = ${fmt(num.z1)} and a₁ = σ(z₁) = ${fmt(num.a1)}; times w₂ = ${fmtValue(s.w2)} plus ` +
    `b₂ = ${fmtValue(s.b2)} gives z₂ = ${fmt(num.z2)} and a₂ = ${fmt(num.a2)}; ` +
    `the cost C = (a₂ − y)² = ${fmt(num.C)} for the target y = ${fmtValue(s.y)}.`);
}

function buildControls(parent, uid, commit) {
  const c = { radios: {}, sliders: {}, outputs: {} };
  const choice = html("fieldset", { class: "bp-choice" }, parent);
  html("legend", {}, choice, "Parameter to nudge");
  for (const name of PARAMS) {
    const id = `${uid}-param-${name}`;
    const wrap = html("span", { class: "bp-radio" }, choice);
    const radio = html("input", {
      type: "radio", id, name: uid + "-param", value: name, "data-control": "param", ...KEYS_TO_US,
    }, wrap);
    html("label", { for: id }, wrap, NAMES[name]);
    radio.addEventListener("change", () => radio.checked && commit({ param: name }));
    c.radios[name] = radio;
  }
  const group = (legend, names) => {
    const fieldset = html("fieldset", { class: "bp-sliders" }, parent);
    html("legend", {}, fieldset, legend);
    for (const name of names) {
      const { min, max, label } = SLIDERS[name];
      const id = `${uid}-${name}`;
      const row = html("div", { class: "bp-slider" }, fieldset);
      html("label", { for: id }, row, label);
      const input = html("input", {
        type: "range", id, min, max, step: SLIDER_STEP, "data-param": name, ...KEYS_TO_US,
      }, row);
      input.addEventListener("input", () => commit({ [name]: input.valueAsNumber }));
      c.sliders[name] = input;
      c.outputs[name] = html("output", { for: id, "data-value": "" }, row);
    }
  };
  group("Parameters", PARAMS);
  group("Input and target", ["x", "y"]);
  group("The nudge", ["step"]);
  return c;
}

function updateControls(c, s) {
  for (const name of Object.keys(SLIDERS)) {
    if (c.sliders[name].valueAsNumber !== s[name]) c.sliders[name].value = String(s[name]);
    c.outputs[name].textContent = fmtValue(s[name]);
    c.outputs[name].setAttribute("data-value", String(s[name]));
  }
  for (const name of PARAMS) c.radios[name].checked = name === s.param;
}

function buildNumbers(parent) {
  const t = { grads: {} };
  const table = html("table", { class: "bp-table" }, parent);
  const row = (tableNode, label, key, cls) => {
    const tr = html("tr", cls ? { class: cls } : {}, tableNode);
    const th = html("th", { scope: "row" }, tr, label);
    return { tr, th, td: html("td", { "data-readout": key, "data-value": "" }, tr) };
  };
  t.C = row(table, "cost C", "C", "bp-strong");
  t.gradient = row(table, "gradient", "gradient");
  t.step = row(table, "nudge", "step");
  t.predicted = row(table, "predicted change = gradient × nudge", "predicted_change");
  t.actual = row(table, "actual change", "actual_change");
  html("p", { class: "bp-why" }, parent,
    "Predicted and actual change differ a little because C curves: the gradient is the slope " +
    "of the tangent, exact only for a vanishingly small nudge (halve the nudge and the gap " +
    "shrinks about four-fold).");
  const grads = html("table", { class: "bp-table bp-grads" }, parent);
  html("caption", {}, grads, "All four gradients, by backprop");
  for (const p of PARAMS) t.grads[p] = row(grads, `dC/d${NAMES[p]}`, "dC_d" + p);
  return t;
}

function updateNumbers(t, s, num) {
  const P = NAMES[s.param];
  showNumber(t.C.td, num.C);
  t.gradient.th.textContent = `gradient dC/d${P} (backprop)`;
  showNumber(t.gradient.td, num.gradient);
  t.step.th.textContent = `nudge Δ${P}`;
  showNumber(t.step.td, s.step);
  showNumber(t.predicted.td, num.predicted_change);
  t.actual.th.textContent = `actual change C(${P} + Δ) − C(${P})`;
  showNumber(t.actual.td, num.actual_change);
  for (const p of PARAMS) {
    t.grads[p].tr.classList.toggle("bp-studied", p === s.param);
    t.grads[p].th.textContent = `dC/d${NAMES[p]}` + (p === s.param ? " (nudged)" : "");
    showNumber(t.grads[p].td, num["dC_d" + p]);
  }
}

function swatch(kind) {
  const s = svg("svg", { width: 34, height: 16, viewBox: "0 0 34 16", "aria-hidden": "true" });
  if (kind === "curve" || kind === "tangent") svg("line", { x1: 1, y1: 8, x2: 33, y2: 8, class: "bp-" + kind }, s);
  if (kind === "current") svg("circle", { cx: 17, cy: 8, r: 6, class: "bp-current" }, s);
  if (kind === "actual") svg("rect", { x: 12, y: 3, width: 10, height: 10, class: "bp-actual" }, s);
  if (kind === "predicted") svg("path", { d: "M17,0 L25,8 L17,16 L9,8 z", class: "bp-predicted" }, s);
  return s;
}

function buildPlot(root, uid) {
  const W = 720, H = 270, L = 66, R = 706, T = 12, B = 214;
  const p = { L, R, T, B, key: "" };
  p.svg = svg("svg", { class: "bp-plot", viewBox: `0 0 ${W} ${H}`, role: "img" }, root);
  const clip = svg("clipPath", { id: uid + "-clip" }, svg("defs", {}, p.svg));
  svg("rect", { x: L, y: T, width: R - L, height: B - T }, clip);
  svg("rect", { x: L, y: T, width: R - L, height: B - T, class: "bp-plot-area" }, p.svg);
  p.grid = svg("g", { class: "bp-grid-lines" }, p.svg);
  const axes = svg("g", { class: "bp-axes" }, p.svg);
  svg("line", { x1: L, y1: B, x2: R, y2: B }, axes);
  svg("line", { x1: L, y1: T, x2: L, y2: B }, axes);
  p.ticks = svg("g", { class: "bp-ticks" }, p.svg);
  p.xlabel = svgText(p.svg, (L + R) / 2, H - 8, "", { "text-anchor": "middle", class: "bp-axis-label" });
  svgText(p.svg, 0, 0, "cost C", {
    "text-anchor": "middle", class: "bp-axis-label", transform: `translate(16 ${(T + B) / 2}) rotate(-90)`,
  });
  const inner = svg("g", { "clip-path": `url(#${uid}-clip)` }, p.svg);
  p.guide = svg("line", { class: "bp-guide" }, inner);
  p.curve = svg("polyline", { class: "bp-curve" }, inner);
  p.tangent = svg("line", { class: "bp-tangent" }, inner);
  p.current = svg("circle", { r: 6, class: "bp-current" }, inner);
  p.predicted = svg("path", { d: "M0,-9 L9,0 L0,9 L-9,0 z", class: "bp-predicted" }, inner);
  p.actual = svg("rect", { width: 10, height: 10, class: "bp-actual" }, inner);

  p.legend = {};
  const legend = html("ul", { class: "bp-legend" }, root);
  for (const kind of ["curve", "tangent", "current", "actual", "predicted"]) {
    const li = html("li", {}, legend);
    li.appendChild(swatch(kind));
    p.legend[kind] = html("span", {}, li);
  }
  return p;
}

/** C against the studied parameter over its slider range; the tangent's slope is the gradient. */
function drawPlot(p, s, num) {
  const P = NAMES[s.param], p0 = s[s.param], p1 = p0 + s.step;
  const lo = Math.min(SLIDERS[s.param].min, p0, p1), hi = Math.max(SLIDERS[s.param].max, p0, p1);
  const N = 240, xs = new Array(N + 1), cs = new Array(N + 1);
  const args = INPUTS.map((n) => s[n]), at = INPUTS.indexOf(s.param);
  const C0 = num.C, g = num.gradient;
  let cmax = Math.max(C0, C0 + num.actual_change);
  for (let i = 0; i <= N; i++) {
    xs[i] = lo + ((hi - lo) * i) / N;
    args[at] = xs[i];
    cs[i] = forwardBackward(...args).C; // the curve itself is always drawn by the browser
    cmax = Math.max(cmax, cs[i]);
  }
  const ymax = niceCeil(Math.max(cmax * 1.08, 1e-6));
  const { L, R, T, B } = p;
  const X = (v) => L + ((v - lo) / (hi - lo)) * (R - L);
  const Y = (c) => B - (c / ymax) * (B - T);
  const set = (node, attrs) => { for (const k in attrs) node.setAttribute(k, attrs[k]); };

  let points = "";
  for (let i = 0; i <= N; i++) points += `${X(xs[i]).toFixed(2)},${Y(cs[i]).toFixed(2)} `;
  set(p.curve, { points });
  set(p.tangent, { x1: X(lo), y1: Y(C0 + g * (lo - p0)), x2: X(hi), y2: Y(C0 + g * (hi - p0)) });
  set(p.current, { cx: X(p0), cy: Y(C0) });
  set(p.actual, { x: X(p1) - 5, y: Y(C0 + num.actual_change) - 5 });
  set(p.predicted, { transform: `translate(${X(p1)} ${Y(C0 + num.predicted_change)})` });
  set(p.guide, { x1: X(p1), x2: X(p1), y1: T, y2: B });

  const key = `${lo}|${hi}|${ymax}`;
  if (p.key !== key) { // the axes change rarely: rebuild the ticks only then
    p.key = key;
    p.ticks.replaceChildren();
    p.grid.replaceChildren();
    const xt = ticks(lo, hi, 8), yt = ticks(0, ymax, 4);
    for (const v of xt.values) {
      svg("line", { x1: X(v), y1: B, x2: X(v), y2: B + 5 }, p.ticks);
      svgText(p.ticks, X(v), B + 20, fmt(v, xt.decimals), { "text-anchor": "middle" });
    }
    for (const v of yt.values) {
      svg("line", { x1: L - 5, y1: Y(v), x2: L, y2: Y(v) }, p.ticks);
      svg("line", { x1: L, y1: Y(v), x2: R, y2: Y(v) }, p.grid);
      svgText(p.ticks, L - 8, Y(v) + 4, fmt(v, yt.decimals), { "text-anchor": "end" });
    }
  }
  p.xlabel.textContent = `${P} (the nudged parameter)`;
  p.legend.curve.textContent = `C as a function of ${P}, the others fixed`;
  p.legend.tangent.textContent = `tangent at the current point, slope dC/d${P} = ${fmt(g)}`;
  p.legend.current.textContent = `current ${P} = ${fmtValue(p0)}`;
  p.legend.actual.textContent = "C after the nudge (actual)";
  p.legend.predicted.textContent = "C predicted by the tangent";
  p.svg.setAttribute("aria-label",
    `Plot of the cost C against ${P} from ${fmt(lo, 2)} to ${fmt(hi, 2)}, the other values fixed. ` +
    `Current point: ${P} = ${fmtValue(p0)}, C = ${fmt(C0)}; dashed tangent with slope ${fmt(g)}. ` +
    `After a nudge of ${fmtValue(s.step)}: actual C = ${fmt(C0 + num.actual_change)}, ` +
    `the tangent predicts ${fmt(C0 + num.predicted_change)}.`);
}

// --- the widget -----------------------------------------------------------------------------

function render({ model, el }) {
  const uid = "bpcn-" + Math.random().toString(36).slice(2, 9); // ids unique per view
  const root = html("div", { class: "bp-chain-nudge" }, el);
  const commit = committer(model);
  const head = html("div", { class: "bp-head" }, root);
  html("p", { class: "bp-title" }, head, "Nudge a parameter, watch the cost");
  const source = html("p", { class: "bp-source", "data-readout": "source" }, head);
  const diagram = buildDiagram(root, uid);
  const columns = html("div", { class: "bp-cols" }, root);
  const controls = buildControls(html("div", { class: "bp-controls" }, columns), uid, commit);
  const numbers = buildNumbers(html("div", { class: "bp-results" }, columns));
  const plot = buildPlot(root, uid);
  const voice = speaker(root);

  // Who computes: the kernel once it has answered our ping and its numbers are for the
  // values on screen; otherwise this browser.
  const handshake = kernelLink(model);
  const state = () => {
    const s = { param: model.get("param"), step: model.get("step") };
    for (const n of INPUTS) s[n] = model.get(n);
    return s;
  };

  function redraw() {
    const t0 = performance.now();
    const s = state();
    const kernel = handshake.numbersFor(s, [...INPUTS, "param", "step"]);
    const num = kernel || nudgeNumbers(s);
    handshake.showSource(source, kernel);
    updateDiagram(diagram, s, num);
    updateControls(controls, s);
    updateNumbers(numbers, s, num);
    drawPlot(plot, s, num);

    voice.say(() => {
      const P = NAMES[s.param];
      return `C = ${fmt(num.C)}, dC/d${P} = ${fmt(num.gradient)}, predicted change ` +
        `${fmt(num.predicted_change)}, actual change ${fmt(num.actual_change)}.`;
    });

    redrawn(root, t0, el);
  }

  return handshake.connect(redraw, ["change"], voice.stop);
}

export default { render };
