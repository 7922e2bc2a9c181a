// Front end of backprop_book.widgets.AttentionNudge (attention_nudge.py), an anywidget ES module.
//
// One query q in the plane attends over fixed keys k_j (rows of K), d = 2:
//   s_j = q . k_j / sqrt(d),  p = softmax(s),  C = -log p_c,
//   dC/ds = p - onehot(c),    dC/dq = sum_j (p_j - [j = c]) k_j / sqrt(d).
// This file computes them itself (float64), so the widget is live in the static book. It
// also pings the kernel: when one answers, the numbers shown are the kernel's (the package's
// NumPy) whenever they were computed for the values on screen; data-readout="source" says which.
//
// For tests: root class bp-attention-nudge; numbers in [data-readout=KEY] with the full value
// in data-value (C, dC_dq1, dC_dq2, s0.., p0.., q1, q2); sliders carry data-param (q1, q2);
// the target radios carry data-control="target"; each redraw counts in root.dataset.redraws.
// Okabe-Ito colours; every key has its own marker shape and its label, the target key a ring
// and the word "target", so colour is never the only signal.

const LIMIT = 3;
const MARKERS = ["circle", "square", "triangle", "diamond"];
const SUB = ["₁", "₂", "₃", "₄"];
const keyName = (j) => "k" + SUB[j];
// The query's marker: a plus sign, a shape no key uses.
const PLUS = "M-8,-2.5 h5.5 v-5.5 h5 v5.5 h5.5 v5 h-5.5 v5.5 h-5 v-5.5 h-5.5 z";

/** Scores, weights, cost and the query's gradient: the chapter's formulas, in JavaScript. */
export function attentionNumbers(q, keys, target) {
  const d = 2, r = Math.sqrt(d);
  const s = keys.map((k) => (q[0] * k[0] + q[1] * k[1]) / r);
  const m = Math.max(...s);
  const e = s.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  const p = e.map((v) => v / sum);
  const C = -(s[target] - m - Math.log(sum)); // -log p_c, without dividing by a probability
  const dC_ds = p.map((v, j) => v - (j === target ? 1 : 0));
  const dC_dq = [0, 1].map((i) => dC_ds.reduce((a, g, j) => a + g * keys[j][i], 0) / r);
  return { s, p, C, dC_ds, dC_dq };
}

/** A number for people: fixed decimals, a true minus sign, never "−0". */
function fmt(v, digits = 3) {
  if (!Number.isFinite(v)) return String(v);
  let t = v.toFixed(digits);
  if (/^-0\.?0*$/.test(t)) t = t.slice(1);
  return t.replace(/-/g, "\u2212");
}

// --- the plane: keys, query, and the arrow -dC/dq ----------------------------------------------

const PW = 360, PAD = 30; // the plane's viewBox, and its margin for tick labels
const PX = (x) => PAD + ((x + LIMIT) / (2 * LIMIT)) * (PW - 2 * PAD);
const PY = (y) => PW - PAD - ((y + LIMIT) / (2 * LIMIT)) * (PW - 2 * PAD);

function buildPlane(root, uid, keys) {
  const p = svg("svg", { class: "bp-plane", viewBox: `0 0 ${PW} ${PW}`, role: "img" }, root);
  const marker = svg("marker", {
    id: uid + "-head", viewBox: "0 0 10 10", refX: 8, refY: 5, orient: "auto",
    markerUnits: "userSpaceOnUse", markerWidth: 12, markerHeight: 12,
  }, svg("defs", {}, p));
  svg("path", { d: "M0,0 L10,5 L0,10 z", class: "bp-arrow-head" }, marker);
  svg("rect", { x: PAD, y: PAD, width: PW - 2 * PAD, height: PW - 2 * PAD, class: "bp-plot-area" }, p);
  for (let v = -LIMIT; v <= LIMIT; v += 1) {
    svg("line", { x1: PX(v), y1: PAD, x2: PX(v), y2: PW - PAD, class: v === 0 ? "bp-axis" : "bp-grid-line" }, p);
    svg("line", { x1: PAD, y1: PY(v), x2: PW - PAD, y2: PY(v), class: v === 0 ? "bp-axis" : "bp-grid-line" }, p);
    svgText(p, PX(v), PW - PAD + 16, fmt(v, 0), { "text-anchor": "middle", class: "bp-tick" });
    svgText(p, PAD - 6, PY(v) + 4, fmt(v, 0), { "text-anchor": "end", class: "bp-tick" });
  }
  const keyNodes = keys.map((k, j) => {
    const g = svg("g", { class: `bp-key bp-key-${j}`, transform: `translate(${PX(k[0])} ${PY(k[1])})` }, p);
    const ring = svg("circle", { r: 13, class: "bp-target-ring" }, g);
    svg("path", { d: markerPath(MARKERS[j], 6.5) }, g);
    // the name on the side of the key with room for "(target)"
    const right = k[0] <= 0.5;
    const label = svgText(g, right ? 12 : -12, -12, keyName(j),
      { class: "bp-key-label", "text-anchor": right ? "start" : "end" });
    return { ring, label };
  });
  const arrow = svg("line", { class: "bp-arrow", "marker-end": `url(#${uid}-head)` }, p);
  const query = svg("g", { class: "bp-query" }, p);
  svg("path", { d: PLUS }, query);
  svgText(query, 10, 18, "q", { class: "bp-query-label" });
  return { svg: p, keyNodes, arrow, query };
}

function updatePlane(n, q, keys, target, num) {
  n.query.setAttribute("transform", `translate(${PX(q[0])} ${PY(q[1])})`);
  n.keyNodes.forEach((k, j) => {
    k.ring.style.display = j === target ? "" : "none";
    k.label.textContent = keyName(j) + (j === target ? " (target)" : "");
  });
  // the arrow: -dC/dq drawn in the plane's units from q, the way gradient descent moves q
  const g = num.dC_dq, len = Math.hypot(g[0], g[1]);
  const show = len > 1e-3;
  n.arrow.style.display = show ? "" : "none";
  n.arrow.setAttribute("x1", PX(q[0]));
  n.arrow.setAttribute("y1", PY(q[1]));
  n.arrow.setAttribute("x2", PX(q[0] - g[0]));
  n.arrow.setAttribute("y2", PY(q[1] - g[1]));
  const where = keys.map((k, j) => `${keyName(j)} at (${fmt(k[0], 1)}, ${fmt(k[1], 1)})` +
    (j === target ? " (the target)" : "")).join(", ");
  n.svg.setAttribute("aria-label",
    `The plane: keys ${where}; the query q at (${fmt(q[0], 2)}, ${fmt(q[1], 2)}); ` +
    (show ? `an arrow from q along −dC/dq = (${fmt(-g[0])}, ${fmt(-g[1])}), the way a gradient step moves q.`
      : "the gradient is almost zero: no arrow."));
}

// --- the weights as bars -----------------------------------------------------------------------

const BW = 360, ROW = 34, BL = 118, BR = 300;

function buildBars(root, keys) {
  const H = keys.length * ROW + 30;
  const b = svg("svg", { class: "bp-bars", viewBox: `0 0 ${BW} ${H}`, role: "img" }, root);
  svg("line", { x1: BL, y1: 4, x2: BL, y2: keys.length * ROW + 4, class: "bp-axis" }, b);
  for (const v of [0, 0.5, 1]) {
    svg("line", { x1: BL + v * (BR - BL), y1: 4, x2: BL + v * (BR - BL), y2: keys.length * ROW + 4, class: "bp-grid-line" }, b);
    svgText(b, BL + v * (BR - BL), keys.length * ROW + 22, String(v), { "text-anchor": "middle", class: "bp-tick" });
  }
  const rows = keys.map((_, j) => {
    const y = 4 + j * ROW;
    const g = svg("g", { class: `bp-bar bp-key-${j}` }, b);
    const name = svgText(g, BL - 8, y + ROW / 2 + 5, keyName(j), { "text-anchor": "end", class: "bp-bar-label" });
    const rect = svg("rect", { x: BL, y: y + 6, height: ROW - 12, width: 0 }, g);
    const value = svgText(g, BL, y + ROW / 2 + 5, "", { class: "bp-bar-value" });
    return { name, rect, value };
  });
  return { svg: b, rows };
}

function updateBars(n, target, num) {
  num.p.forEach((p, j) => {
    const r = n.rows[j];
    r.rect.setAttribute("width", (p * (BR - BL)).toFixed(2));
    r.rect.classList.toggle("bp-target", j === target);
    r.name.textContent = (j === target ? "target " : "") + keyName(j);
    r.name.classList.toggle("bp-target", j === target);
    r.value.setAttribute("x", (BL + p * (BR - BL) + 6).toFixed(2));
    r.value.textContent = fmt(p);
  });
  n.svg.setAttribute("aria-label", "Attention weights: " +
    num.p.map((p, j) => `${keyName(j)}${j === target ? " (target)" : ""} ${fmt(p)}`).join(", ") + ".");
}

// --- the controls and the table ----------------------------------------------------------------

function buildControls(root, uid, keys, commit) {
  const c = { sliders: {}, outputs: {}, radios: [] };
  const box = html("div", { class: "bp-controls" }, root);
  for (const [name, label] of [["q1", "q₁, the query's first coordinate"], ["q2", "q₂, the query's second coordinate"]]) {
    const row = html("div", { class: "bp-slider" }, box);
    const id = `${uid}-${name}`;
    html("label", { for: id }, row, label);
    const input = html("input", {
      type: "range", id, min: -LIMIT, max: LIMIT, step: 0.05, "data-param": name, ...KEYS_TO_US,
    }, row);
    c.outputs[name] = html("output", { for: id, "data-readout": name }, row);
    input.addEventListener("input", () => commit({ [name]: input.valueAsNumber }));
    c.sliders[name] = input;
  }
  const field = html("fieldset", {}, box);
  html("legend", {}, field, "target key c");
  keys.forEach((_, j) => {
    const id = `${uid}-t${j}`;
    const r = html("input", { type: "radio", id, name: `${uid}-target`, value: String(j), "data-control": "target", ...KEYS_TO_US }, field);
    html("label", { for: id }, field, keyName(j));
    r.addEventListener("change", () => r.checked && commit({ target: j }));
    c.radios.push(r);
  });
  return c;
}

function updateControls(c, q, target) {
  ["q1", "q2"].forEach((name, i) => {
    if (c.sliders[name].valueAsNumber !== q[i]) c.sliders[name].value = String(q[i]);
    c.sliders[name].setAttribute("aria-valuetext", fmt(q[i], 2));
    showText(c.outputs[name], q[i], fmt(q[i], 2));
  });
  c.radios[target].checked = true;
}

function buildTable(root, keys) {
  const table = html("table", { class: "bp-table" }, root);
  const head = html("tr", {}, html("thead", {}, table));
  for (const h of ["key", "score s_j = q·k_j / √2", "weight p_j"]) html("th", { scope: "col" }, head, h);
  const body = html("tbody", {}, table);
  const cells = {};
  keys.forEach((_, j) => {
    const tr = html("tr", {}, body);
    cells["name" + j] = html("th", { scope: "row" }, tr, keyName(j));
    cells["s" + j] = html("td", { "data-readout": "s" + j, "data-value": "" }, tr);
    cells["p" + j] = html("td", { "data-readout": "p" + j, "data-value": "" }, tr);
  });
  const dl = html("dl", { class: "bp-results" }, root);
  for (const [key, label] of [["C", "cost C = −log p_c"], ["dC_dq1", "dC/dq₁"], ["dC_dq2", "dC/dq₂"]]) {
    html("dt", {}, dl, label);
    cells[key] = html("dd", { "data-readout": key, "data-value": "" }, dl);
  }
  return cells;
}

function updateTable(cells, target, num) {
  num.s.forEach((s, j) => {
    cells["name" + j].textContent = keyName(j) + (j === target ? " (target)" : "");
    showText(cells["s" + j], s, fmt(s));
    showText(cells["p" + j], num.p[j], fmt(num.p[j]));
  });
  showText(cells.C, num.C, fmt(num.C));
  showText(cells.dC_dq1, num.dC_dq[0], fmt(num.dC_dq[0]));
  showText(cells.dC_dq2, num.dC_dq[1], fmt(num.dC_dq[1]));
}

// --- the widget --------------------------------------------------------------------------------

function render({ model, el }) {
  const uid = "bpan-" + Math.random().toString(36).slice(2, 9); // ids unique per view
  const keys = model.get("key_points");
  const root = html("div", { class: "bp-attention-nudge" }, el);
  const commit = committer(model);
  html("p", { class: "bp-title" }, root, "Move the query, watch the weights and −dC/dq");
  const source = html("p", { class: "bp-source", "data-readout": "source" }, root);
  const controls = buildControls(root, uid, keys, commit);
  const plane = buildPlane(root, uid, keys);
  html("p", { class: "bp-caption" }, root,
    "Keys: " + keys.map((_, j) => `${keyName(j)} ${MARKERS[j]}`).join(", ") + "; the query q " +
    "is the plus sign; a ring marks the target key; the arrow is −dC/dq, the way a gradient " +
    "step moves q.");
  const bars = buildBars(root, keys);
  const cells = buildTable(root, keys);
  const voice = speaker(root);

  // Who computes: the kernel once it has answered our ping and its numbers are for the
  // values on screen; otherwise this browser.
  const handshake = kernelLink(model);

  function redraw() {
    const t0 = performance.now();
    const q = [model.get("q1"), model.get("q2")], target = model.get("target");
    const kernel = handshake.numbersFor({ q1: q[0], q2: q[1], target }, ["q1", "q2", "target"]);
    const num = kernel || attentionNumbers(q, keys, target);
    handshake.showSource(source, kernel, { kernel: "the package's NumPy" });
    updateControls(controls, q, target);
    updatePlane(plane, q, keys, target, num);
    updateBars(bars, target, num);
    updateTable(cells, target, num);
    voice.say(() => {
      return `weight of the target ${fmt(num.p[target])}, C = ${fmt(num.C)}, ` +
        `dC/dq = (${fmt(num.dC_dq[0])}, ${fmt(num.dC_dq[1])}).`;
    });
    redrawn(root, t0, el);
  }

  return handshake.connect(redraw, ["change"], voice.stop);
}

export default { render };
