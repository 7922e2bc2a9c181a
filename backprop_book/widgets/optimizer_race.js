// Front end of backprop_book.optimizer_race.OptimizerRace (an anywidget ES module).
//
// The cost is C(w) = 1/2 w^T H w with H = model "hessian" (2 x 2, symmetric, positive
// definite), minimum at 0. From "start", gradient descent, momentum and Adam each take
// "steps" steps at the learning rate "eta"; "beta" is the momentum and Adam's beta_1:
//   gd:       w <- w - eta g
//   momentum: v <- beta v + g; w <- w - eta v
//   adam:     m <- beta m + (1 - beta) g; s <- 0.999 s + 0.001 g g;
//             w <- w - eta (m / (1 - beta^t)) / (sqrt(s / (1 - 0.999^t)) + 1e-8)
// This file computes the paths itself, so the widget is live in the static book. It also
// pings the kernel: once one answers, the paths drawn are the kernel's (the chapter's
// NumPy) whenever they were computed for the values on screen; [data-readout=source] says
// which.
//
// For tests: root class bp-optimizer-race; numbers in [data-readout=KEY] with the full
// value in data-value (KEY = gd_x, gd_y, gd_cost, momentum_x, ..., eta, beta, source);
// sliders carry data-param="eta"/"beta". Palette Okabe-Ito, and each path also has its
// own dash pattern and marker, so colour is never the only signal.

const PATHS = {
  gd: { label: "gradient descent", cls: "bp-gd", marker: "circle", legend: "solid, circles" },
  momentum: { label: "momentum", cls: "bp-momentum", marker: "square", legend: "dashed, squares" },
  adam: { label: "Adam", cls: "bp-adam", marker: "triangle", legend: "dotted, triangles" },
};
const BETA2 = 0.999, EPS = 1e-8;

// --- the three update rules (same operations, in the same order, as the chapter's NumPy) ---

const grad = (H, w) => [H[0][0] * w[0] + H[0][1] * w[1], H[1][0] * w[0] + H[1][1] * w[1]];
const cost = (H, w) => 0.5 * (w[0] * (H[0][0] * w[0] + H[0][1] * w[1]) + w[1] * (H[1][0] * w[0] + H[1][1] * w[1]));

export function racePaths(H, start, eta, beta, steps) {
  const out = { gd: [start.slice()], momentum: [start.slice()], adam: [start.slice()] };
  let v = [0, 0], m = [0, 0], s = [0, 0];
  for (let t = 1; t <= steps; t++) {
    let w = out.gd[t - 1], g = grad(H, w);
    out.gd.push([w[0] - eta * g[0], w[1] - eta * g[1]]);

    w = out.momentum[t - 1];
    g = grad(H, w);
    v = [beta * v[0] + g[0], beta * v[1] + g[1]];
    out.momentum.push([w[0] - eta * v[0], w[1] - eta * v[1]]);

    w = out.adam[t - 1];
    g = grad(H, w);
    m = [beta * m[0] + (1 - beta) * g[0], beta * m[1] + (1 - beta) * g[1]];
    s = [BETA2 * s[0] + (1 - BETA2) * g[0] * g[0], BETA2 * s[1] + (1 - BETA2) * g[1] * g[1]];
    const c1 = 1 - beta ** t, c2 = 1 - BETA2 ** t;
    const step = (k) => (eta * (m[k] / c1)) / (Math.sqrt(s[k] / c2) + EPS);
    out.adam.push([w[0] - step(0), w[1] - step(1)]);
  }
  return out;
}

// --- DOM helpers ----------------------------------------------------------------------------

function fmt(v, digits = 3) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  const text = a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toFixed(digits);
  return text.replace(/-/g, "\u2212");
}

/** Eigen-decomposition of a symmetric 2 x 2 matrix: [[l1, l2], [e1, e2]]. */
function eig2(H) {
  const a = H[0][0], b = H[0][1], d = H[1][1];
  const mean = (a + d) / 2, r = Math.hypot((a - d) / 2, b);
  const theta = 0.5 * Math.atan2(2 * b, a - d);
  const e1 = [Math.cos(theta), Math.sin(theta)], e2 = [-Math.sin(theta), Math.cos(theta)];
  return [[mean + r, mean - r], [e1, e2]];
}

// --- the widget -----------------------------------------------------------------------------

function render({ model, el }) {
  const uid = "bpor-" + Math.random().toString(36).slice(2, 9);
  const H = model.get("hessian"), start = model.get("start");
  const root = html("div", { class: "bp-optimizer-race" }, el);
  const commit = committer(model);
  html("p", { class: "bp-title" }, root, "Optimizer race on C(w) = ½ wᵀHw");
  const controls = html("div", { class: "bp-controls" }, root);
  const sliders = {};
  const slider = (name, label, min, max, step) => {
    const id = `${uid}-${name}`;
    const row = html("div", { class: "bp-slider" }, controls);
    html("label", { for: id }, row, label);
    const input = html("input", { type: "range", id, min, max, step, "data-param": name, ...KEYS_TO_US }, row);
    const out = html("output", { for: id, "data-readout": name }, row);
    input.addEventListener("input", () => commit(name, input.valueAsNumber));
    sliders[name] = { input, out };
  };
  slider("eta", "learning rate η", 0.005, 0.25, 0.005);
  slider("beta", "momentum β (Adam's β₁)", 0, 0.99, 0.01);
  const source = html("p", { class: "bp-source", "data-readout": "source", "data-value": "browser" }, root);

  // The picture: contours of C, the minimum, and the three paths (clipped to the view).
  const W = 560, Hpx = 380, L = 44, R = 548, T = 10, B = 340;
  const span = Math.max(Math.abs(start[0]), Math.abs(start[1])) * 1.25;
  const xr = [-span, span], yr = [-span * (B - T) / (R - L), span * (B - T) / (R - L)];
  const X = (x) => L + ((x - xr[0]) / (xr[1] - xr[0])) * (R - L);
  const Y = (y) => B - ((y - yr[0]) / (yr[1] - yr[0])) * (B - T);
  const pic = svg("svg", { class: "bp-race-plot", viewBox: `0 0 ${W} ${Hpx}`, role: "img" }, root);
  const clip = svg("clipPath", { id: `${uid}-clip` }, svg("defs", {}, pic));
  svg("rect", { x: L, y: T, width: R - L, height: B - T }, clip);
  svg("rect", { x: L, y: T, width: R - L, height: B - T, class: "bp-plot-area" }, pic);
  const contours = svg("g", { class: "bp-contours", "clip-path": `url(#${uid}-clip)` }, pic);
  const [lams, vecs] = eig2(H);
  const c0 = cost(H, start);
  for (const level of [0.003, 0.01, 0.03, 0.1, 0.3, 1, 2, 4]) {
    const pts = [];
    for (let k = 0; k <= 72; k++) {
      const th = (2 * Math.PI * k) / 72;
      const r1 = Math.sqrt((2 * level * c0) / lams[0]) * Math.cos(th);
      const r2 = Math.sqrt((2 * level * c0) / lams[1]) * Math.sin(th);
      pts.push(`${X(r1 * vecs[0][0] + r2 * vecs[1][0]).toFixed(1)},${Y(r1 * vecs[0][1] + r2 * vecs[1][1]).toFixed(1)}`);
    }
    svg("polyline", { points: pts.join(" ") }, contours);
  }
  const axes = svg("g", { class: "bp-axes" }, pic);
  for (const v of [-4, -2, 0, 2, 4].filter((v) => v > xr[0] && v < xr[1])) {
    svg("line", { x1: X(v), y1: B, x2: X(v), y2: B + 5 }, axes);
    svg("text", { x: X(v), y: B + 20, "text-anchor": "middle" }, axes).textContent = fmt(v, 0);
  }
  for (const v of [-2, 0, 2].filter((v) => v > yr[0] && v < yr[1])) {
    svg("line", { x1: L - 5, y1: Y(v), x2: L, y2: Y(v) }, axes);
    svg("text", { x: L - 8, y: Y(v) + 5, "text-anchor": "end" }, axes).textContent = fmt(v, 0);
  }
  svg("text", { x: (L + R) / 2, y: Hpx - 4, "text-anchor": "middle", class: "bp-axis-label" }, axes).textContent = "x";
  svg("text", { x: 14, y: (T + B) / 2, class: "bp-axis-label" }, axes).textContent = "y";
  const minimum = svg("g", { transform: `translate(${X(0)} ${Y(0)})`, class: "bp-minimum" }, pic);
  svg("path", { d: "M-7,0 H7 M0,-7 V7" }, minimum);
  const lines = {};
  const drawn = svg("g", { "clip-path": `url(#${uid}-clip)` }, pic);
  for (const [key, p] of Object.entries(PATHS)) {
    const g = svg("g", { class: "bp-path " + p.cls, "data-path": key }, drawn);
    lines[key] = { line: svg("polyline", {}, g), marks: svg("g", {}, g) };
  }

  const legend = html("ul", { class: "bp-legend" }, root);
  for (const [key, p] of Object.entries(PATHS)) {
    const li = html("li", { class: p.cls }, legend);
    const sw = svg("svg", { width: 40, height: 16, viewBox: "0 0 40 16", "aria-hidden": "true" }, li);
    svg("line", { x1: 2, y1: 8, x2: 38, y2: 8 }, sw);
    svg("path", { d: markerPath(p.marker, 4.5), transform: "translate(20 8)" }, sw);
    html("span", {}, li, `${p.label} (${p.legend})`);
  }
  const table = html("table", { class: "bp-table" }, root);
  const head = html("tr", {}, html("thead", {}, table));
  for (const h of ["", "x after the last step", "y", "cost C"]) html("th", { scope: "col" }, head, h);
  const body = html("tbody", {}, table);
  const cells = {};
  for (const [key, p] of Object.entries(PATHS)) {
    const tr = html("tr", {}, body);
    html("th", { scope: "row" }, tr, p.label);
    cells[key] = ["x", "y", "cost"].map((q) => html("td", { "data-readout": `${key}_${q}`, "data-value": "" }, tr));
  }
  const voice = speaker(root);

  const handshake = kernelLink(model);
  const current = () => ({ eta: model.get("eta"), beta: model.get("beta"), start: model.get("start"), steps: model.get("steps") });
  function kernelPaths(now) {
    const k = model.get("kernel");
    if (!handshake.listening || !k || !k.inputs) return null;
    const i = k.inputs;
    const same = i.eta === now.eta && i.beta === now.beta && i.steps === now.steps &&
      i.start[0] === now.start[0] && i.start[1] === now.start[1];
    return same ? k.paths : null;
  }

  function redraw() {
    const t0 = performance.now();
    const now = current();
    for (const name of ["eta", "beta"]) {
      const s = sliders[name];
      if (Math.abs(s.input.valueAsNumber - now[name]) > 1e-12) s.input.value = String(now[name]);
      s.input.setAttribute("aria-valuetext", fmt(now[name], name === "eta" ? 3 : 2));
      showText(s.out, now[name], fmt(now[name], name === "eta" ? 3 : 2));
    }
    const fromKernel = kernelPaths(now);
    const paths = fromKernel || racePaths(H, now.start, now.eta, now.beta, now.steps);
    handshake.showSource(source, fromKernel, { what: "Paths", kernel: "the chapter's NumPy" });
    const words = [];
    for (const key of Object.keys(PATHS)) {
      const path = paths[key], last = path[path.length - 1], c = cost(H, last);
      const clampX = (x) => Math.min(Math.max(X(x), L - 50), R + 50);
      const clampY = (y) => Math.min(Math.max(Y(y), T - 50), B + 50);
      lines[key].line.setAttribute("points", path.map((w) => `${clampX(w[0]).toFixed(1)},${clampY(w[1]).toFixed(1)}`).join(" "));
      lines[key].marks.replaceChildren();
      path.forEach((w, t) => {
        if (t % 5 && t !== path.length - 1) return;
        svg("path", { d: markerPath(PATHS[key].marker, t === path.length - 1 ? 6 : 3.5), transform: `translate(${clampX(w[0])} ${clampY(w[1])})` }, lines[key].marks);
      });
      showText(cells[key][0], last[0], fmt(last[0]));
      showText(cells[key][1], last[1], fmt(last[1]));
      showText(cells[key][2], c, fmt(c, 4));
      words.push(`${PATHS[key].label} ends at cost ${fmt(c, 4)}`);
    }
    const text = `Learning rate ${fmt(now.eta, 3)}, momentum ${fmt(now.beta, 2)}, ${now.steps} steps: ${words.join("; ")}.`;
    pic.setAttribute("aria-label", `Contours of the cost with the three paths from (${fmt(start[0], 1)}, ${fmt(start[1], 1)}). ${text}`);
    voice.say(text);
    redrawn(root, t0);
  }

  const names = ["eta", "beta", "steps", "start", "kernel"];
  return handshake.connect(redraw, names.map((n) => `change:${n}`), voice.stop);
}

export default { render };
