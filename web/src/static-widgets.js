// The book's widgets in the built HTML book, with no kernel and no widget manager.
//
// Every widget of the book is an anywidget: its model carries its own ES module (_esm) and
// stylesheet (_css), and the build embeds each model's state in the page (a
// "widget-state+json" script) and one "widget-view+json" script where each widget goes.
// That is all a page needs: this script reads the state, gives each widget a model with
// anywidget's API (get, set, on, off, save_changes, send), adds its stylesheet once, imports
// its module and calls render({model, el}). It replaces the ipywidgets HTML manager and
// require.js (3.7 MB that every widget page parsed before its widgets could start) with a
// few kilobytes, and it has no deadline: on a slow phone a widget starts late, never dies.
//
// Without a kernel, save_changes and send go nowhere: a widget computes in the page (its
// kernel handshake simply never hears an answer). In JupyterLab, anywidget's own front end
// renders the same modules, connected to the kernel.
(function () {
  "use strict";

  const STATE = 'script[type="application/vnd.jupyter.widget-state+json"]';
  const VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';

  function same(a, b) {
    if (a === b) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    return JSON.stringify(a) === JSON.stringify(b);
  }

  // A model as anywidget hands it to render(): its state, and events in Backbone's style
  // ("change:name" for each changed value, then one "change"; "msg:custom" for messages).
  class Model {
    constructor(id, state) {
      this.id = id;
      this.state = Object.assign({}, state);
      this.listeners = new Map();
    }
    get(name) {
      return this.state[name];
    }
    set(name, value) {
      const changes = typeof name === "object" && name !== null ? name : { [name]: value };
      const changed = Object.keys(changes).filter((key) => !same(this.state[key], changes[key]));
      for (const key of changed) this.state[key] = changes[key];
      for (const key of changed) this.emit(`change:${key}`, this, this.state[key]);
      if (changed.length) this.emit("change", this);
    }
    on(events, callback) {
      for (const event of events.split(/\s+/).filter(Boolean)) {
        if (!this.listeners.has(event)) this.listeners.set(event, []);
        this.listeners.get(event).push(callback);
      }
    }
    off(events, callback) {
      const names = events ? events.split(/\s+/).filter(Boolean) : [...this.listeners.keys()];
      for (const event of names) {
        const kept = callback ? (this.listeners.get(event) || []).filter((c) => c !== callback) : [];
        this.listeners.set(event, kept);
      }
    }
    emit(event, ...args) {
      for (const callback of [...(this.listeners.get(event) || [])]) {
        try {
          callback(...args);
        } catch (error) {
          console.error(`[widgets] a listener of "${event}" failed:`, error);
        }
      }
    }
    save_changes() {} // no kernel to save to: the change already shows in the page
    send() {} // no kernel to hear it
  }

  function readState() {
    const models = new Map();
    for (const tag of document.querySelectorAll(STATE)) {
      const saved = JSON.parse(tag.textContent);
      for (const [id, entry] of Object.entries(saved.state || {})) {
        models.set(id, { module: entry.model_module, name: entry.model_name, state: entry.state });
      }
    }
    return models;
  }

  const sheets = new Set();
  function addStyle(id, css) {
    if (!css || sheets.has(id)) return;
    sheets.add(id);
    const style = document.createElement("style");
    style.dataset.widget = id;
    style.textContent = css;
    document.head.appendChild(style);
  }

  const modules = new Map(); // one import per distinct module text, shared by its views
  function load(esm) {
    if (!modules.has(esm)) {
      const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
      modules.set(esm, import(url).finally(() => URL.revokeObjectURL(url)));
    }
    return modules.get(esm);
  }

  function fail(el, what, error) {
    console.error(`[widgets] ${what}:`, error);
    const note = document.createElement("p");
    note.className = "bp-widget-error";
    note.setAttribute("role", "alert");
    note.textContent = `This widget could not start (${what}: ${error && error.message ? error.message : error}).` +
      " Run the chapter's notebook to use it in JupyterLab.";
    el.appendChild(note);
  }

  async function renderView(tag, saved, models) {
    const area = document.createElement("div");
    area.className = "widget-subarea";
    const el = document.createElement("div");
    el.className = "lm-Widget jupyter-widgets";
    area.appendChild(el);
    tag.parentNode.insertBefore(area, tag);
    let view;
    try {
      view = JSON.parse(tag.textContent);
    } catch (error) {
      return fail(el, "its saved view is not JSON", error);
    }
    const entry = saved.get(view.model_id);
    if (!entry) return fail(el, `no saved state for model ${view.model_id}`, "the page was saved without it");
    if (entry.module !== "anywidget") {
      return fail(el, `a ${entry.module} ${entry.name} is not an anywidget`, "the static book renders anywidgets only");
    }
    if (!models.has(view.model_id)) models.set(view.model_id, new Model(view.model_id, entry.state));
    const model = models.get(view.model_id);
    for (const cls of model.get("_dom_classes") || []) el.classList.add(cls);
    addStyle(model.get("_anywidget_id") || view.model_id, model.get("_css"));
    let widget;
    try {
      const module = await load(model.get("_esm"));
      widget = module.default || module;
      if (typeof widget === "function") widget = await widget();
      if (typeof widget.initialize === "function") await widget.initialize({ model });
    } catch (error) {
      return fail(el, "its module did not load", error);
    }
    if (typeof widget.render !== "function") return fail(el, "its module has no render()", "nothing to draw");
    try {
      await widget.render({ model, el });
    } catch (error) {
      fail(el, "render() failed", error);
    }
  }

  function renderAll() {
    const saved = readState();
    const models = new Map();
    return Promise.all([...document.querySelectorAll(VIEW)].map((tag) => renderView(tag, saved, models)));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", renderAll);
  else renderAll();
})();
