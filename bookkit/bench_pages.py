"""`make bench-pages`: how soon each page of the built book reads, as a reader's browser shows it.

For every page of the toc, at 1280 px and at 390 px (a phone), in Debian's headless Chromium,
offline, each visit in a fresh browser context (nothing cached):

* ``settled_ms``: from navigation start to the last change a reader could see (content
  added or changed, a style or class changed, the page resized: a font arriving, a widget
  drawn), once it has been still for a second. The theme re-marking which boxes scroll
  (``tabindex``) is not a change a reader sees. This visit touches nothing;
* ``widget_ms``: from navigation start to the first widget answering its slider (moved one
  step, it redraws), on pages with widgets, in a visit of its own (the nudge and the redraw
  it causes would otherwise count as the page still moving);
* ``redraw_ms``: once that visit has settled, every slider of every widget on the page moved
  ``REDRAW_MOVES`` steps up and down: the median time a widget took to redraw (its own
  measure, ``data-last-update-ms``), the time a reader waits between a nudge and its answer
  (a frame is 16.7 ms at 60 Hz);
* ``bytes``: what the page loaded (its HTML and every asset it pulled).

Medians over ``--runs`` visits. A benchmark, not a test: run it on a quiet machine. Writes
``_build/bench-pages.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path

from . import toc
from .browser import chromium, serve
from .paths import BUILD, HTML

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
#: How long the page must stay still before it counts as settled.
QUIET_MS = 1000

# Installed before the page's own scripts: note the time of every layout change, and the
# first moment a widget answers its slider.
WATCH = """nudge => {
  window.__bench = {lastChange: 0, widget: null};
  const changed = () => { window.__bench.lastChange = performance.now(); };
  const seen = records => records.some(r => r.type !== 'attributes' || r.attributeName !== 'tabindex');
  const tryWidget = () => {
    if (!nudge || window.__bench.widget !== null) return;
    const root = document.querySelector('[data-redraws]');
    const slider = root && root.querySelector('input[type=range]');
    if (!slider) return;
    const before = Number(root.dataset.redraws);
    slider.stepUp();
    slider.dispatchEvent(new Event('input', {bubbles: true}));
    if (Number(root.dataset.redraws) > before) window.__bench.widget = performance.now();
    else requestAnimationFrame(() => {
      if (Number(root.dataset.redraws) > before && window.__bench.widget === null)
        window.__bench.widget = performance.now();
    });
  };
  new MutationObserver(records => { if (seen(records)) changed(); tryWidget(); }).observe(document, {
    subtree: true, childList: true, attributes: true, characterData: true});
  document.addEventListener('DOMContentLoaded', () => {
    new ResizeObserver(changed).observe(document.documentElement);
  });
}"""

QUIET = """quiet => new Promise(done => {
  const check = () => {
    const idle = performance.now() - window.__bench.lastChange;
    if (document.readyState === 'complete' && idle >= quiet) done(window.__bench);
    else setTimeout(check, 100);
  };
  check();
})"""


#: Steps each slider is moved, alternately up and down, to time the redraws.
REDRAW_MOVES = 10

REDRAWS = """moves => {
  const times = [];
  for (const root of document.querySelectorAll('[data-redraws]')) {
    for (const slider of root.querySelectorAll('input[type=range]')) {
      for (let k = 0; k < moves; k++) {
        const before = Number(root.dataset.redraws);
        if (k % 2) slider.stepDown(); else slider.stepUp();
        slider.dispatchEvent(new Event('input', {bubbles: true}));
        if (Number(root.dataset.redraws) > before && root.dataset.lastUpdateMs !== undefined)
          times.push(Number(root.dataset.lastUpdateMs));
      }
    }
  }
  return times;
}"""


def visit(browser, base: str, entry: str, size: dict, nudge: bool = False) -> dict:
    """One fresh visit of ``entry`` at ``size``: when it settled and what it loaded; with
    ``nudge``, also when its first widget answered (then its settle time is not the page's)."""
    context = browser.new_context(viewport=size)
    page = context.new_page()  # offline: the browser resolves no host but 127.0.0.1
    loaded = []
    page.on("response", lambda r: loaded.append(r))
    page.add_init_script(f"({WATCH})({json.dumps(nudge)})")
    page.goto(f"{base}/{entry}.html", wait_until="load", timeout=300_000)
    marks = page.evaluate(QUIET, QUIET_MS)
    redraws = page.evaluate(REDRAWS, REDRAW_MOVES) if nudge else []
    total = 0
    for response in loaded:
        try:
            total += len(response.body())
        except Exception:  # a response without a body (a redirect, an aborted request)
            pass
    context.close()
    return {"settled_ms": round(marks["lastChange"]),
            "widget_ms": None if marks["widget"] is None else round(marks["widget"]),
            "redraw_ms": statistics.median(redraws) if redraws else None,
            "bytes": total}


def median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values)) if values else None


def markdown(rows: list[dict]) -> str:
    lines = ["| page | width | settled (ms) | first widget live (ms) | redraw (ms) | loaded (kB) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        widget = "-" if row["widget_ms"] is None else row["widget_ms"]
        redraw = "-" if row.get("redraw_ms") is None else f"{row['redraw_ms']:.1f}"
        lines.append(f"| {row['page']} | {row['width']} | {row['settled_ms']} | {widget} |"
                     f" {redraw} | {row['bytes'] / 1000:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="visits per page and width")
    parser.add_argument("--pages", nargs="+", metavar="ENTRY", help="only these toc entries")
    parser.add_argument("--out", default=str(BUILD / "bench-pages.json"))
    parser.add_argument("--site", default=str(HTML), type=Path,
                        help="a built book's HTML folder (default _build/html), e.g. an older"
                             " build kept for a before/after comparison")
    args = parser.parse_args(argv)
    site = args.site
    if not (site / "book").is_dir():
        print(f"No built book in {site}: run `make book` first.", file=sys.stderr)
        return 1
    rows = []
    with serve(site) as base, chromium() as browser:
        for entry in args.pages or toc.entries():
            for name, size in SIZES.items():
                still = [visit(browser, base, entry, size) for _ in range(args.runs)]
                widgets = "widget-view+json" in (site / f"{entry}.html").read_text()
                nudged = [visit(browser, base, entry, size, nudge=True)
                          for _ in range(args.runs if widgets else 0)]
                row = {"page": entry, "width": size["width"], "size": name,
                       "settled_ms": median([r["settled_ms"] for r in still]),
                       "widget_ms": median([r["widget_ms"] for r in nudged]),
                       "redraw_ms": statistics.median(
                           [r["redraw_ms"] for r in nudged if r["redraw_ms"] is not None] or [0]
                       ) if nudged else None,
                       "bytes": median([r["bytes"] for r in still])}
                rows.append(row)
                print(f"  {entry} at {size['width']} px: settled {row['settled_ms']} ms,"
                      f" widget {row['widget_ms']} ms, redraw {row['redraw_ms']} ms", flush=True)
    machine = {"python": platform.python_version(), "machine": platform.machine(),
               "processor": platform.processor() or platform.machine(),
               "cpus": os.cpu_count()}
    report = {"machine": machine, "runs": args.runs, "quiet_ms": QUIET_MS, "rows": rows}
    with open(args.out, "w") as out:
        json.dump(report, out, indent=1)
    print("\n" + markdown(rows) + f"\n\nmachine: {machine}; written to {args.out}")
    return 0
