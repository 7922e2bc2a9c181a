// Tell require.js where the ipywidgets modules live, relative to this script,
// so the HTML widget manager finds its own code and icon fonts in the book's
// _static/vendor folder (on every page, at any depth, over http or file://)
// instead of asking a CDN.
(function () {
  var src = document.currentScript.src;
  var here = src.slice(0, src.lastIndexOf("/") + 1);
  require.config({
    paths: {
      "@jupyter-widgets": here + "jupyter-widgets",
    },
  });
})();
