// Front end of backprop_book.widgets.TrainingCurves (training_curves.py) (an anywidget ES module).
//
// The model's "grid" holds precomputed curves, one value per epoch 0..E:
//   grid.train_loss[i][j][e], grid.test_loss[i][j][e], grid.test_acc[i][j][e]
// for learning rate grid.learning_rates[i] and batch size grid.batch_sizes[j]. Two sliders
// pick i ("lr_index") and j ("bs_index"); the charts and numbers redraw at once, in the
// browser, so the widget stays live in the static book where no kernel runs. When a kernel
// answers our ping, a button asks it to train the selected pair again with a new shuffling
// seed; its curves ("kernel") are drawn on top while they belong to the selection.
//
// For tests: the root has class bp-training-curves; numbers sit in [data-readout=KEY] with
// the full-precision value in data-value; sliders carry data-param="lr_index"/"bs_index";
// each redraw counts itself in root.dataset.redraws and times itself in lastUpdateMs.
// Palette: Okabe-Ito; every curve also has its own dash pattern and marker.

const SERIES = {
  train_loss: { label: "training loss", cls: "bp-train", marker: "circle" },
  test_loss: { label: "test loss", cls: "bp-test", marker: "square" },
  test_acc: { label: "test accuracy", cls: "bp-acc", marker: "triangle" },
  kernel: { label: "", cls: "bp-rerun", marker: "diamond" },
};

// --- formatting and DOM helpers -------------------------------------------------------------

function fmt(v, digits = 3) {
  if (!Number.isFinite(v)) return String(v);
  return v.toFixed(digits).replace(/-/g, "\u2212");
}
const pct = (v) => (100 * v).toFixed(1) + " %";
const fmtEta = (v) => String(Number(v.toPrecision(3)));


/** A marker shape centred at (0, 0), to be placed with a transform. */

/** Ticks at 1, 2, 2.5 or 5 × 10^k covering [lo, hi]. */

// --- a line chart: built once, its series redrawn ---------------------------------------------

function buildChart(parent, uid, { height, ylabel, ymax, yfmt, series, epochs }) {
  const W = 720, L = 70, R = 704, T = 12, B = height - 46;
  const c = { series: {}, L, R, T, B, ymax, epochs };
  c.svg = svg("svg", { class: "bp-chart", viewBox: `0 0 ${W} ${height}`, role: "img" }, parent);
  svg("rect", { x: L, y: T, width: R - L, height: B - T, class: "bp-plot-area" }, c.svg);
  const X = (e) => L + (e / epochs) * (R - L);
  const Y = (v) => B - (v / ymax) * (B - T);
  c.X = X;
  c.Y = Y;
  const axes = svg("g", { class: "bp-axes" }, c.svg);
  const yt = ticks(0, ymax, 4);
  for (const v of yt.values) {
    svg("line", { x1: L, y1: Y(v), x2: R, y2: Y(v), class: "bp-grid-line" }, axes);
    svgText(axes, L - 8, Y(v) + 5, yfmt(v, yt.decimals), { "text-anchor": "end" });
  }
  const xt = ticks(0, epochs, Math.min(epochs, 10));
  for (const v of xt.values) {
    svg("line", { x1: X(v), y1: B, x2: X(v), y2: B + 5 }, axes);
    svgText(axes, X(v), B + 21, String(Math.round(v)), { "text-anchor": "middle" });
  }
  svg("line", { x1: L, y1: B, x2: R, y2: B, class: "bp-axis" }, axes);
  svg("line", { x1: L, y1: T, x2: L, y2: B, class: "bp-axis" }, axes);
  svgText(c.svg, (L + R) / 2, height - 6, "epoch (passes over the training set)", {
    "text-anchor": "middle", class: "bp-axis-label",
  });
  svgText(c.svg, 0, 0, ylabel, {
    "text-anchor": "middle", class: "bp-axis-label", transform: `translate(18 ${(T + B) / 2}) rotate(-90)`,
  });
  for (const key of series) {
    const g = svg("g", { class: "bp-series " + SERIES[key].cls, "data-series": key }, c.svg);
    c.series[key] = { g, line: svg("polyline", {}, g), marks: svg("g", {}, g) };
  }
  return c;
}

function drawSeries(c, key, values) {
  const s = c.series[key];
  if (!values) {
    s.g.setAttribute("display", "none");
    return;
  }
  s.g.removeAttribute("display");
  const clamp = (v) => Math.min(Math.max(v, 0), c.ymax);
  s.line.setAttribute("points", values.map((v, e) => `${c.X(e).toFixed(1)},${c.Y(clamp(v)).toFixed(1)}`).join(" "));
  s.marks.replaceChildren();
  const every = Math.max(1, Math.ceil(values.length / 16)); // markers stay readable
  values.forEach((v, e) => {
    if (e % every && e !== values.length - 1) return;
    svg("path", { d: markerPath(SERIES[key].marker, 4.5), transform: `translate(${c.X(e)} ${c.Y(clamp(v))})` }, s.marks);
  });
}

function legendItem(list, key, text) {
  const li = html("li", { class: SERIES[key].cls }, list);
  const sw = svg("svg", { width: 40, height: 16, viewBox: "0 0 40 16", "aria-hidden": "true" }, li);
  svg("line", { x1: 2, y1: 8, x2: 38, y2: 8 }, sw);
  svg("path", { d: markerPath(SERIES[key].marker, 4.5), transform: "translate(20 8)" }, sw);
  return html("span", {}, li, text);
}

// --- the widget -----------------------------------------------------------------------------

function render({ model, el }) {
  const uid = "bptc-" + Math.random().toString(36).slice(2, 9);
  const grid = model.get("grid");
  const etas = grid.learning_rates, sizes = grid.batch_sizes, epochs = grid.epochs;
  let lossMax = 0;
  for (const key of ["train_loss", "test_loss"]) {
    for (const row of grid[key]) for (const run of row) for (const v of run) lossMax = Math.max(lossMax, v);
  }
  lossMax = niceCeil(Math.max(lossMax, 1e-3));

  const root = html("div", { class: "bp-training-curves" }, el);
  const commit = committer(model);
  html("p", { class: "bp-title" }, root, "Nudge the learning rate and the batch size, watch training");
  const controls = html("div", { class: "bp-controls" }, root);
  const sliders = {};
  const slider = (name, label, axis, text) => {
    const id = `${uid}-${name}`;
    const row = html("div", { class: "bp-slider" }, controls);
    html("label", { for: id }, row, label);
    const input = html("input", {
      type: "range", id, min: 0, max: axis.length - 1, step: 1, "data-param": name, ...KEYS_TO_US,
    }, row);
    const out = html("output", { for: id, "data-readout": name === "lr_index" ? "eta" : "batch_size" }, row);
    input.addEventListener("input", () => commit(name, input.valueAsNumber));
    sliders[name] = { input, out, axis, text };
  };
  slider("lr_index", "learning rate η", etas, fmtEta);
  slider("bs_index", "batch size m", sizes, String);

  const numbers = html("table", { class: "bp-table" }, root);
  const row = (label, key) => {
    const tr = html("tr", {}, numbers);
    html("th", { scope: "row" }, tr, label);
    return html("td", { "data-readout": key, "data-value": "" }, tr);
  };
  const cells = {
    acc: row(`final test accuracy (after epoch ${epochs})`, "final_test_acc"),
    train: row("final training loss", "final_train_loss"),
    test: row("final test loss", "final_test_loss"),
    steps: row("gradient steps per epoch", "steps_per_epoch"),
  };

  const loss = buildChart(root, uid, {
    height: 250, ylabel: "mean cross-entropy", ymax: lossMax, epochs,
    yfmt: (v, d) => v.toFixed(Math.min(d, 2)), series: ["train_loss", "test_loss", "kernel"],
  });
  const acc = buildChart(root, uid, {
    height: 190, ylabel: "test accuracy", ymax: 1, epochs,
    yfmt: (v) => Math.round(100 * v) + " %", series: ["test_acc", "kernel"],
  });
  const legend = html("ul", { class: "bp-legend" }, root);
  legendItem(legend, "train_loss", "training loss (solid, circles)");
  legendItem(legend, "test_loss", "test loss (dashed, squares)");
  legendItem(legend, "test_acc", "test accuracy (dotted, triangles)");
  const rerunLegend = legendItem(legend, "kernel", "");
  rerunLegend.parentElement.hidden = true;

  const kernelBar = html("div", { class: "bp-kernel", hidden: "" }, root);
  const button = html("button", { type: "button", ...KEYS_TO_US }, kernelBar, "Train this pair again in the kernel (new shuffle)");
  const status = html("span", { class: "bp-status", "data-readout": "kernel_status" }, kernelBar);
  const voice = speaker(root);

  button.addEventListener("click", () => {
    status.textContent = "training…";
    model.send({ type: "rerun" });
  });

  function redraw() {
    const t0 = performance.now();
    const i = model.get("lr_index"), j = model.get("bs_index");
    const eta = etas[i], m = sizes[j];
    for (const [name, s] of Object.entries(sliders)) {
      const k = name === "lr_index" ? i : j;
      if (s.input.valueAsNumber !== k) s.input.value = String(k);
      s.input.setAttribute("aria-valuetext", `${s.text(s.axis[k])}`);
      showText(s.out, s.axis[k], s.text(s.axis[k]));
    }
    const run = { train_loss: grid.train_loss[i][j], test_loss: grid.test_loss[i][j], test_acc: grid.test_acc[i][j] };
    const last = (key) => run[key][epochs];
    showText(cells.acc, last("test_acc"), pct(last("test_acc")));
    showText(cells.train, last("train_loss"), fmt(last("train_loss")));
    showText(cells.test, last("test_loss"), fmt(last("test_loss")));
    const steps = grid.n_train ? Math.ceil(grid.n_train / m) : null;
    cells.steps.parentElement.hidden = steps === null;
    if (steps !== null) showText(cells.steps, steps, String(steps));

    drawSeries(loss, "train_loss", run.train_loss);
    drawSeries(loss, "test_loss", run.test_loss);
    drawSeries(acc, "test_acc", run.test_acc);
    const k = model.get("kernel");
    const mine = k && k.lr_index === i && k.bs_index === j;
    drawSeries(loss, "kernel", mine ? k.test_loss : null);
    drawSeries(acc, "kernel", mine ? k.test_acc : null);
    rerunLegend.parentElement.hidden = !mine;
    if (mine) {
      rerunLegend.textContent = `kernel rerun, shuffle seed ${k.seed}: test loss and accuracy (thin, diamonds)`;
      showText(status, k.test_acc[epochs], `rerun: final test accuracy ${pct(k.test_acc[epochs])}`);
    } else if (status.textContent !== "training…") {
      status.textContent = "";
    }

    const words = `learning rate ${fmtEta(eta)}, batch size ${m}: after ${epochs} epochs the ` +
      `training loss is ${fmt(last("train_loss"))}, the test loss ${fmt(last("test_loss"))}, ` +
      `and the test accuracy ${pct(last("test_acc"))}.`;
    loss.svg.setAttribute("aria-label", `Training and test loss per epoch for ${words}`);
    acc.svg.setAttribute("aria-label", `Test accuracy per epoch for ${words}`);
    voice.say(words);
    redrawn(root, t0, el);
  }

  const onMessage = (msg) => {
    if (!msg) return;
    if (msg.type === "pong" && msg.can_rerun) kernelBar.hidden = false;
    if (msg.type === "error") status.textContent = "the kernel could not train: " + msg.message;
  };
  model.on("change:lr_index", redraw);
  model.on("change:bs_index", redraw);
  model.on("change:kernel", redraw);
  model.on("msg:custom", onMessage);
  redraw();
  model.send({ type: "ping" }); // nobody answers in the static book: the button stays hidden
  return () => {
    voice.stop();
    model.off("change:lr_index", redraw);
    model.off("change:bs_index", redraw);
    model.off("change:kernel", redraw);
    model.off("msg:custom", onMessage);
  };
}

export default { render };
