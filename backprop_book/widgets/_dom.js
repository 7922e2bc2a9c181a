// Shared by every widget of the book: backprop_book/widgets/_assets.py joins this file in
// front of each widget's own script, so a fix here reaches all of them at once.

const SVGNS = "http://www.w3.org/2000/svg";
// On a slider: JupyterLab leaves the arrow keys to it instead of moving between cells.
const KEYS_TO_US = { "data-lm-suppress-shortcuts": "true" };

// An HTML element with these attributes (and text), appended to parent if there is one.
function html(tag, attrs, parent, text) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  if (parent) parent.appendChild(n);
  return n;
}

// The same for an SVG element.
function svg(tag, attrs, parent, text) {
  const n = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  if (parent) parent.appendChild(n);
  return n;
}

// An SVG <text> at (x, y).
function svgText(parent, x, y, str, attrs) {
  return svg("text", { x, y, ...attrs }, parent, str);
}

// A readout: the text a reader sees, and the exact value for tests and screen readers.
function showText(node, v, text) {
  node.textContent = text;
  node.setAttribute("data-value", String(v));
}

// A marker's path of radius r: "circle", "square", "triangle" or "diamond" (series differ by shape,
// not only by colour).
function markerPath(kind, r) {
  if (kind === "circle") return `M${-r},0 a${r},${r} 0 1,0 ${2 * r},0 a${r},${r} 0 1,0 ${-2 * r},0`;
  if (kind === "square") return `M${-r},${-r} h${2 * r} v${2 * r} h${-2 * r} z`;
  if (kind === "triangle") return `M0,${-r * 1.2} L${r * 1.1},${r * 0.8} L${-r * 1.1},${r * 0.8} z`;
  if (kind === "diamond") return `M0,${-r * 1.3} L${r * 1.1},0 L0,${r * 1.3} L${-r * 1.1},0 z`;
  throw new Error(`markerPath: no marker called ${kind}`);
}

// About count round-numbered ticks from lo to hi, and the decimals to print them with.
function ticks(lo, hi, count) {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const mantissa = [1, 2, 2.5, 5, 10].find((m) => m * mag >= raw);
  const step = mantissa * mag;
  const values = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    values.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (mantissa === 2.5 ? 1 : 0));
  return { values, decimals };
}

// The smallest round number at least v: an axis's top.
function niceCeil(v) {
  const mag = 10 ** Math.floor(Math.log10(v));
  return [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((m) => m * mag).find((s) => s >= v * 1.0000001);
}

// The end of a redraw that began at t0 (performance.now()): counts it in root.dataset.redraws
// and writes how long it took, in ms, to root.dataset.lastUpdateMs (and to el's, if given),
// for the tests and the benchmarks.
function redrawn(root, t0, el) {
  const ms = (performance.now() - t0).toFixed(3);
  if (el) el.dataset.lastUpdateMs = ms;
  root.dataset.lastUpdateMs = ms;
  root.dataset.redraws = String(Number(root.dataset.redraws || 0) + 1);
}

// The function a widget sets its model with: commit(name, value) or commit({name: value}).
// The change shows at once (the model fires "change"), and is saved to the kernel when there
// is one (in the static book, web/src/static-widgets.js, save_changes does nothing); a save
// that throws (a kernel gone) ends the trying, and the widget goes on computing in the page.
function committer(model) {
  let canSync = true;
  return (...changes) => {
    model.set(...changes);
    if (!canSync) return;
    try {
      model.save_changes();
    } catch (e) {
      canSync = false;
    }
  };
}

// The widget's voice for screen readers: a polite live region, appended to root, that says
// the result once the reader pauses (delay ms after the last change). voice.say(text) takes
// the words or a function that returns them; voice.stop() cancels what is pending. The
// first draw, when the page opens, is not spoken: nobody has moved anything yet, and a page
// that talks as it loads is noise (the widget's labels already describe it).
function speaker(root, delay = 400) {
  const region = html("p", { class: "bp-sr-only", "aria-live": "polite", "aria-atomic": "true" }, root);
  let timer = null;
  let drawn = false;
  return {
    region,
    say(text) {
      if (!drawn) {
        drawn = true;
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(() => {
        region.textContent = typeof text === "function" ? text() : text;
      }, delay);
    },
    stop() {
      clearTimeout(timer);
    },
  };
}

// The page's half of the handshake with the kernel (the widget's Python answers a "ping"
// with a "pong"). link.listening is false until a kernel has answered. link.connect(redraw,
// events, stop) redraws now and on each of the model's events, and pings; a pong sets
// listening and redraws, so the numbers can come from the kernel. In the static book nobody
// answers, and the widget keeps computing here. connect returns the cleanup that render
// returns: stop() (the widget's own), then every listener off.
function kernelLink(model) {
  const link = {
    listening: false,
    // The kernel's numbers (the model's "kernel" value) when a kernel is listening and they
    // were computed for what is on screen: state's values under names equal their inputs.
    numbersFor(state, names) {
      const k = model.get("kernel");
      if (!link.listening || !k || !k.inputs) return null;
      for (const n of names) if (JSON.stringify(k.inputs[n]) !== JSON.stringify(state[n])) return null;
      return k;
    },
    // The widget's source line says who computed what is on screen: the kernel (with
    // `kernel`, which code there) or this browser, while a listening kernel catches up.
    showSource(source, fromKernel, { what = "Numbers", kernel = "NumPy" } = {}) {
      source.dataset.value = fromKernel ? "kernel" : "browser";
      source.textContent = fromKernel
        ? `${what} computed by the kernel (${kernel})`
        : `${what} computed in your browser (JavaScript)` +
          (link.listening ? " while the kernel catches up" : "");
    },
    connect(redraw, events = ["change"], stop = () => {}) {
      const onMessage = (msg) => {
        if (msg && msg.type === "pong") {
          link.listening = true;
          redraw();
        }
      };
      for (const e of events) model.on(e, redraw);
      model.on("msg:custom", onMessage);
      redraw();
      model.send({ type: "ping" });
      return () => {
        stop();
        for (const e of events) model.off(e, redraw);
        model.off("msg:custom", onMessage);
      };
    },
  };
  return link;
}

// ---- the widget's own script follows ----
