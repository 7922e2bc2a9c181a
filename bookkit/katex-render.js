// The book's math, rendered at build time: one TeX source per line of stdin, as JSON
// {"tex": ..., "display": bool}, answered by one line of JSON on stdout, {"html": ...} or
// {"error": ...}. KaTeX comes from web/node_modules (pinned by web/package-lock.json);
// bookkit/katex.py starts this once per build and keeps it running.
// Usage: node katex-render.js <path of the katex package> <KaTeX options as JSON>
"use strict";
const katex = require(process.argv[2]);
const options = JSON.parse(process.argv[3] || "{}");
const readline = require("readline");

const lines = readline.createInterface({input: process.stdin, terminal: false});
lines.on("line", line => {
  let answer;
  try {
    const request = JSON.parse(line);
    // KaTeX writes \gdef definitions into the macros it is given: a fresh copy each time,
    // so that no equation changes the next one.
    const html = katex.renderToString(request.tex, {
      ...options, macros: {...options.macros}, displayMode: !!request.display});
    answer = {html};
  } catch (e) {
    answer = {error: String(e && e.message || e)};
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
