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

// On a page with widgets, let the first widget draw before MathJax typesets the page:
// typesetting a chapter is one long task that would otherwise hold the widgets back by a
// second or more. MathJax waits until every saved widget view has drawn, or 3 s at most,
// then typesets as usual (MathJax.startup.promise still resolves once the math is done).
(function () {
  var config = window.MathJax;
  if (!config || config.startup && config.startup.pageReady) return;
  var views = function () {
    return document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
  };
  var widgetsDrawn = function () {
    return new Promise(function (resolve) {
      var wanted = views().length;
      if (!wanted) return resolve();
      var done = function () {
        return document.querySelectorAll("[data-redraws]").length >= wanted;
      };
      if (done()) return resolve();
      var observer = new MutationObserver(function () {
        if (done()) { observer.disconnect(); resolve(); }
      });
      observer.observe(document.body, { subtree: true, childList: true, attributes: true,
                                        attributeFilter: ["data-redraws"] });
      setTimeout(function () { observer.disconnect(); resolve(); }, 3000);
    });
  };
  config.startup = Object.assign({}, config.startup, {
    pageReady: function () {
      return widgetsDrawn().then(function () { return MathJax.startup.defaultPageReady(); });
    },
  });
})();
