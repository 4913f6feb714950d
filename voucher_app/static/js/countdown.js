// Counts down to the times in [data-countdown] (ISO 8601). With data-reload, reloads the page when the
// time comes, so a round that has just opened shows its claim button without a manual refresh.
(function () {
  "use strict";
  var nodes = Array.prototype.slice.call(document.querySelectorAll("[data-countdown]"));
  if (!nodes.length) { return; }
  var lang = document.documentElement.lang || "zh-CN";
  var dayWord = lang.indexOf("zh") === 0 ? "天" : "d ";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var now = Date.now();
    nodes.forEach(function (node) {
      var left = Math.floor((Date.parse(node.getAttribute("data-countdown")) - now) / 1000);
      if (left <= 0) {
        node.textContent = "00:00:00";
        if (node.hasAttribute("data-reload") && !node.dataset.reloading) {
          node.dataset.reloading = "1";
          setTimeout(function () { window.location.reload(); }, 800 + Math.random() * 1200);
        }
        return;
      }
      var days = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600);
      var m = Math.floor(left % 3600 / 60), s = left % 60;
      node.textContent = (days ? days + dayWord + " " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
    });
  }
  tick();
  setInterval(tick, 1000);
})();
