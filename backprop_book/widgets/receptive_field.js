// Front end of backprop_book.widgets.ReceptiveField (an anywidget ES module).
//
// One image x, one kernel k (no padding), a fixed output gradient g of the stride-1
// output; at stride 2 the layer keeps outputs (2i, 2j) and G = g[::2, ::2]. The cost is
// C = sum(G * y). The reader selects a cell of x (mode "input") or of k (mode "kernel")
// and a nudge eps. Everything is computed here, in the browser, so the widget is live in
// the static book:
//   y[i][j]      = sum_pq k[p][q] x[s i + p][s j + q]            (a correlation)
//   change       = y after the nudge - y before
//   dC/dx[r][c]  = sum_ij G[i][j] k[r - s i][c - s j]  (terms inside k: a full convolution)
//   dC/dk[p][q]  = sum_ij G[i][j] x[s i + p][s j + q]  (a correlation of x with G)
//   dC           = sum_ij G[i][j] change[i][j]  (= eps times the gradient entry: y is linear)
//
// For tests: root class bp-receptive-field; numbers in [data-readout=KEY] with the full
// value in data-value (gradient, dC, eps_times_gradient, moved, cell); output cells carry
// data-change (the change, "" if unreached) and data-reached; the cells of the output
// gradient table carry data-g; inputs are the cell buttons
// (data-grid = "x" | "k", data-row, data-col), the nudge slider (data-param="nudge"), and
// radios for mode and stride. A change is shown by colour AND sign AND border style.


function fmt(v, digits = 3) {
  const t = Math.abs(v) < 5e-13 ? "0" : v.toFixed(digits);
  return t.replace(/^-/, "\u2212");
}
function signed(v) {
  if (Math.abs(v) < 5e-13) return "0";
  return (v > 0 ? "+" : "\u2212") + Math.abs(v).toFixed(2);
}

export function correlate(x, k, s) {
  const kh = k.length, kw = k[0].length;
  const rows = Math.floor((x.length - kh) / s) + 1, cols = Math.floor((x[0].length - kw) / s) + 1;
  const y = [];
  for (let i = 0; i < rows; i++) {
    const row = [];
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let p = 0; p < kh; p++) for (let q = 0; q < kw; q++) sum += k[p][q] * x[s * i + p][s * j + q];
      row.push(sum);
    }
    y.push(row);
  }
  return y;
}

function render({ model, el }) {
  const uid = "bprf-" + Math.random().toString(36).slice(2, 9);
  const root = html("div", { class: "bp-receptive-field" }, el);
  const commit = committer(model);
  html("p", { class: "bp-title" }, root, "Nudge one cell of a convolution: which outputs move?");
  const controls = html("div", { class: "bp-controls" }, root);
  const radios = {};
  function radioGroup(legend, name, options) {
    const field = html("fieldset", {}, controls);
    html("legend", {}, field, legend);
    for (const [value, label] of options) {
      const id = `${uid}-${name}-${value}`;
      const r = html("input", { type: "radio", id, name: `${uid}-${name}`, value: String(value), ...KEYS_TO_US }, field);
      html("label", { for: id }, field, label);
      r.addEventListener("change", () => r.checked && commit(name, name === "stride" ? Number(value) : value));
      radios[`${name}:${value}`] = r;
    }
  }
  radioGroup("nudge", "mode", [["input", "an input pixel"], ["kernel", "a kernel weight"]]);
  radioGroup("stride", "stride", [[1, "1"], [2, "2"]]);
  const sliderRow = html("div", { class: "bp-slider" }, controls);
  const sid = `${uid}-nudge`;
  html("label", { for: sid }, sliderRow, "nudge ε");
  const slider = html("input", { type: "range", id: sid, min: -1, max: 1, step: 0.05, "data-param": "nudge", ...KEYS_TO_US }, sliderRow);
  const sliderOut = html("output", { for: sid, "data-readout": "nudge" }, sliderRow);
  slider.addEventListener("input", () => commit("nudge", slider.valueAsNumber));

  const grids = html("div", { class: "bp-grids" }, root);
  function table(caption, cls) {
    const wrap = html("figure", { class: `bp-grid ${cls}` }, grids);
    html("figcaption", {}, wrap, caption);
    return html("table", {}, wrap);
  }
  const xTable = table("input x (choose a pixel)", "bp-x");
  const kTable = table("kernel k (choose a weight)", "bp-k");
  const yTable = table("output y: change after the nudge", "bp-y");
  const gTable = table("output gradient G = ∂C/∂y (fixed)", "bp-g");
  const legend = html("p", { class: "bp-legend" }, root,
    "Moved outputs: + on blue with a solid border went up, − on orange with a dashed border went down; " +
    "outputs the chosen cell does not reach are grey.");
  const readouts = html("table", { class: "bp-table" }, root);
  const cell = (label, key) => {
    const tr = html("tr", {}, readouts);
    html("th", { scope: "row" }, tr, label);
    return html("td", { "data-readout": key, "data-value": "" }, tr);
  };
  const out = {
    cell: cell("nudged cell", "cell"),
    moved: cell("outputs reached", "moved"),
    dC: cell("change of C = Σ G ⊙ Δy", "dC"),
    gradient: cell("gradient entry of the cell", "gradient"),
    product: cell("ε × gradient entry", "eps_times_gradient"),
  };
  const voice = speaker(root);

  function buttons(tableNode, grid, name) {
    tableNode.replaceChildren();
    grid.forEach((row, r) => {
      const tr = html("tr", {}, tableNode);
      row.forEach((v, c) => {
        const td = html("td", {}, tr);
        const b = html("button", { type: "button", "data-grid": name, "data-row": r, "data-col": c,
          "aria-label": `${name}[${r}, ${c}] = ${fmt(v, 2)}`, ...KEYS_TO_US }, td, fmt(v, 2));
        b.addEventListener("click", () => {
          if (model.get("mode") !== (name === "x" ? "input" : "kernel")) commit("mode", name === "x" ? "input" : "kernel");
          commit("row", r);
          commit("col", c);
        });
      });
    });
  }
  const x = model.get("x"), k = model.get("k"), g = model.get("g");
  buttons(xTable, x, "x");
  buttons(kTable, k, "k");
  const kh = k.length, kw = k[0].length;

  function redraw() {
    const t0 = performance.now();
    const mode = model.get("mode"), s = model.get("stride"), eps = model.get("nudge");
    const grid = mode === "input" ? x : k;
    const r = Math.min(model.get("row"), grid.length - 1), c = Math.min(model.get("col"), grid[0].length - 1);
    radios[`mode:${mode}`].checked = true;
    radios[`stride:${s}`].checked = true;
    if (slider.valueAsNumber !== eps) slider.value = String(eps);
    slider.setAttribute("aria-valuetext", `ε = ${fmt(eps, 2)}`);
    showText(sliderOut, eps, fmt(eps, 2));
    const G = g.filter((_, i) => i % s === 0).map((row) => row.filter((_, j) => j % s === 0));
    gTable.replaceChildren();
    G.forEach((row, i) => {
      const tr = html("tr", {}, gTable);
      row.forEach((v, j) => html("td", { "data-g": String(v), "data-row": i, "data-col": j }, tr, fmt(v, 2)));
    });
    const y = correlate(x, k, s);
    const x2 = x.map((row) => row.slice()), k2 = k.map((row) => row.slice());
    (mode === "input" ? x2 : k2)[r][c] += eps;
    const y2 = correlate(x2, k2, s);
    let dC = 0, gradient = 0, reached = 0;
    const rows = y.length, cols = y[0].length;
    yTable.replaceChildren();
    for (let i = 0; i < rows; i++) {
      const tr = html("tr", {}, yTable);
      for (let j = 0; j < cols; j++) {
        const change = y2[i][j] - y[i][j];
        dC += G[i][j] * change;
        let reaches = true;
        if (mode === "input") {
          const p = r - s * i, q = c - s * j;  // where pixel (r, c) sits in output (i, j)'s window
          reaches = p >= 0 && p < kh && q >= 0 && q < kw;
          if (reaches) gradient += G[i][j] * k[p][q];
        } else {
          gradient += G[i][j] * x[s * i + r][s * j + c];
        }
        if (reaches) reached += 1;
        const kind = !reaches ? "bp-off" : change > 5e-13 ? "bp-up" : change < -5e-13 ? "bp-down" : "bp-zero";
        const td = html("td", { class: kind, "data-reached": String(reaches), "data-change": reaches ? String(change) : "",
          "data-row": i, "data-col": j }, tr);
        html("span", { class: "bp-val" }, td, fmt(y2[i][j], 2));
        html("span", { class: "bp-delta" }, td, reaches ? signed(change) : "");
      }
    }
    for (const b of root.querySelectorAll("button[data-grid]")) {
      const mine = (b.dataset.grid === "x") === (mode === "input");
      const on = mine && Number(b.dataset.row) === r && Number(b.dataset.col) === c;
      b.setAttribute("aria-pressed", String(on));
      b.classList.toggle("bp-selected", on);
    }
    const name = mode === "input" ? `x[${r}, ${c}]` : `k[${r}, ${c}]`;
    showText(out.cell, `${mode}:${r},${c}`, name);
    showText(out.moved, reached, `${reached} of ${rows * cols}`);
    showText(out.dC, dC, fmt(dC, 4));
    showText(out.gradient, gradient, `∂C/∂${name} = ${fmt(gradient, 4)}`);
    showText(out.product, eps * gradient, fmt(eps * gradient, 4));
    const words = `Nudging ${name} by ${fmt(eps, 2)} at stride ${s} reaches ${reached} of ${rows * cols} outputs; ` +
      `C changes by ${fmt(dC, 4)}, which is ε times the gradient entry ${fmt(gradient, 4)}.`;
    voice.say(words);
    redrawn(root, t0);
  }
  const events = ["change:mode", "change:stride", "change:row", "change:col", "change:nudge"];
  for (const e of events) model.on(e, redraw);
  redraw();
  return () => {
    voice.stop();
    for (const e of events) model.off(e, redraw);
  };
}

export default { render };
