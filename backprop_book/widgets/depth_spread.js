// Front end of backprop_book.depth_spread.DepthSpread (an anywidget ES module).
//
// The model's "grid" holds precomputed spreads (standard deviations), one per layer 1..L:
//   grid.spreads[act].z[i][l - 1], grid.spreads[act].delta[i][l - 1]
// for activation act and scale factor grid.scales[i]. Radio buttons pick the activation,
// a slider picks i; the chart (log scale) and the numbers redraw at once, in the browser,
// so the widget is live in the static book where no kernel runs.
//
// For tests: root class bp-depth-spread; numbers in [data-readout=KEY] with the full value
// in data-value (scale, z_first, z_last, delta_first, delta_last); the slider carries
// data-param="scale_index", the radios name the activation in their value. Okabe-Ito
// colours, and each series has its own dash pattern and marker.

const SERIES = {
  z: { label: "sd of z⁽ˡ⁾ (forward)", cls: "bp-z", marker: "circle", legend: "solid, circles" },
  delta: { label: "sd of δ⁽ˡ⁾ (backward)", cls: "bp-delta", marker: "square", legend: "dashed, squares" },
};

function fmt(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return (a < 1e-2 || a >= 1e3 ? v.toExponential(2) : v.toPrecision(3)).replace(/-/g, "\u2212");
}

function render({ model, el }) {
  const uid = "bpds-" + Math.random().toString(36).slice(2, 9);
  const grid = model.get("grid");
  const scales = grid.scales, depth = grid.depth;
  const root = html("div", { class: "bp-depth-spread" }, el);
  const commit = committer(model);
  html("p", { class: "bp-title" }, root, `Spread per layer in a ${depth}-layer network, by initial scale`);
  const controls = html("div", { class: "bp-controls" }, root);
  const field = html("fieldset", {}, controls);
  html("legend", {}, field, "activation");
  const radios = {};
  for (const act of grid.activations) {
    const id = `${uid}-${act}`;
    const r = html("input", { type: "radio", id, name: `${uid}-act`, value: act, ...KEYS_TO_US }, field);
    html("label", { for: id }, field, act === "relu" ? "ReLU (He × c)" : act === "tanh" ? "tanh (1/√n × c)" : act);
    r.addEventListener("change", () => r.checked && commit("activation", act));
    radios[act] = r;
  }
  const row = html("div", { class: "bp-slider" }, controls);
  const sid = `${uid}-scale`;
  html("label", { for: sid }, row, "scale factor c");
  const input = html("input", { type: "range", id: sid, min: 0, max: scales.length - 1, step: 1, "data-param": "scale_index", ...KEYS_TO_US }, row);
  const out = html("output", { for: sid, "data-readout": "scale" }, row);
  input.addEventListener("input", () => commit("scale_index", input.valueAsNumber));

  // log-scale chart over the whole grid's range, so moving c moves the lines, not the axes
  let lo = Infinity, hi = -Infinity;
  for (const act of grid.activations) for (const key of Object.keys(SERIES)) {
    for (const r of grid.spreads[act][key]) for (const v of r) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  }
  const dlo = Math.floor(Math.log10(lo)), dhi = Math.ceil(Math.log10(hi));
  const W = 720, Hpx = 320, L = 76, R = 704, T = 12, B = 272;
  const X = (l) => L + ((l - 1) / Math.max(depth - 1, 1)) * (R - L);
  const Y = (v) => B - ((Math.log10(v) - dlo) / (dhi - dlo)) * (B - T);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${Hpx}`, role: "img" }, root);
  svg("rect", { x: L, y: T, width: R - L, height: B - T, class: "bp-plot-area" }, chart);
  const axes = svg("g", { class: "bp-axes" }, chart);
  const stride = Math.ceil((dhi - dlo) / 8);
  for (let d = dlo; d <= dhi; d += stride) {
    svg("line", { x1: L, y1: Y(10 ** d), x2: R, y2: Y(10 ** d), class: "bp-grid-line" }, axes);
    svg("text", { x: L - 8, y: Y(10 ** d) + 5, "text-anchor": "end" }, axes).textContent = `1e${d}`.replace("-", "\u2212");
  }
  for (let l = 1; l <= depth; l++) {
    svg("line", { x1: X(l), y1: B, x2: X(l), y2: B + 5 }, axes);
    if (l === 1 || l % 2 === 1 || l === depth) svg("text", { x: X(l), y: B + 21, "text-anchor": "middle" }, axes).textContent = String(l);
  }
  svg("text", { x: (L + R) / 2, y: Hpx - 6, "text-anchor": "middle", class: "bp-axis-label" }, chart).textContent = "layer l";
  svg("text", { x: 0, y: 0, "text-anchor": "middle", class: "bp-axis-label", transform: `translate(16 ${(T + B) / 2}) rotate(-90)` }, chart).textContent = "standard deviation (log)";
  const lines = {};
  for (const [key, s] of Object.entries(SERIES)) {
    const g = svg("g", { class: s.cls, "data-series": key }, chart);
    lines[key] = { line: svg("polyline", {}, g), marks: svg("g", {}, g) };
  }
  const legend = html("ul", { class: "bp-legend" }, root);
  for (const s of Object.values(SERIES)) {
    const li = html("li", { class: s.cls }, legend);
    const sw = svg("svg", { viewBox: "0 0 40 16", "aria-hidden": "true" }, li);
    svg("line", { x1: 2, y1: 8, x2: 38, y2: 8 }, sw);
    svg("path", { d: markerPath(s.marker, 4.5), transform: "translate(20 8)" }, sw);
    html("span", {}, li, `${s.label} (${s.legend})`);
  }
  const table = html("table", { class: "bp-table" }, root);
  const cell = (label, key) => {
    const tr = html("tr", {}, table);
    html("th", { scope: "row" }, tr, label);
    return html("td", { "data-readout": key, "data-value": "" }, tr);
  };
  const cells = {
    z_first: cell("sd of z in layer 1", "z_first"),
    z_last: cell(`sd of z in layer ${depth}`, "z_last"),
    delta_last: cell(`sd of δ in layer ${depth} (where backprop starts)`, "delta_last"),
    delta_first: cell("sd of δ in layer 1 (where it ends)", "delta_first"),
  };
  const voice = speaker(root);

  function redraw() {
    const t0 = performance.now();
    const act = model.get("activation"), i = model.get("scale_index");
    radios[act].checked = true;
    if (input.valueAsNumber !== i) input.value = String(i);
    input.setAttribute("aria-valuetext", `c = ${scales[i]}`);
    showText(out, scales[i], String(scales[i]));
    const sel = { z: grid.spreads[act].z[i], delta: grid.spreads[act].delta[i] };
    for (const key of Object.keys(SERIES)) {
      lines[key].line.setAttribute("points", sel[key].map((v, k) => `${X(k + 1).toFixed(1)},${Y(v).toFixed(1)}`).join(" "));
      lines[key].marks.replaceChildren();
      sel[key].forEach((v, k) => svg("path", { d: markerPath(SERIES[key].marker, 4.5), transform: `translate(${X(k + 1)} ${Y(v)})` }, lines[key].marks));
    }
    showText(cells.z_first, sel.z[0], fmt(sel.z[0]));
    showText(cells.z_last, sel.z[depth - 1], fmt(sel.z[depth - 1]));
    showText(cells.delta_last, sel.delta[depth - 1], fmt(sel.delta[depth - 1]));
    showText(cells.delta_first, sel.delta[0], fmt(sel.delta[0]));
    const words = `${act}, c = ${scales[i]}: the spread of z goes from ${fmt(sel.z[0])} in layer 1 to ` +
      `${fmt(sel.z[depth - 1])} in layer ${depth}; the deltas' from ${fmt(sel.delta[depth - 1])} in layer ` +
      `${depth} to ${fmt(sel.delta[0])} in layer 1.`;
    chart.setAttribute("aria-label", "Spread per layer, log scale. " + words);
    voice.say(words);
    redrawn(root, t0);
  }
  model.on("change:activation", redraw);
  model.on("change:scale_index", redraw);
  redraw();
  return () => {
    voice.stop();
    model.off("change:activation", redraw);
    model.off("change:scale_index", redraw);
  };
}

export default { render };
