// The voucher screen shown at the till: fetches a fresh QR (SVG) before the current one expires, shows
// the typed code, and notices when the cashier has used the voucher, all without a reload.
(function () {
  "use strict";
  var screen = document.querySelector("[data-testid=voucher-screen]");
  if (!screen) { return; }
  var qrBox = screen.querySelector("[data-testid=qr]");
  var codeBox = screen.querySelector("[data-testid=typed-code]");
  var stateBox = screen.querySelector("[data-testid=voucher-state]");
  var codePart = screen.querySelector("[data-testid=voucher-code]");  // the QR, the typed code and their hints
  var messages = {};
  // The phrases sit in a <template>, whose children live in its .content, not in the page.
  Array.prototype.forEach.call(document.getElementById("voucher-messages").content.querySelectorAll("[data-key]"), function (node) {
    messages[node.getAttribute("data-key")] = node.textContent;
  });
  var refreshTimer = null, stateTimer = null, done = false;

  function finish(status, used) {
    done = true;
    clearTimeout(refreshTimer);
    clearInterval(stateTimer);
    screen.setAttribute("data-status", status);
    // A used, expired or revoked voucher has no code to show: the QR's square and the typed code's
    // line go with their hints, and the state is all that is left to read.
    if (codePart && codePart.parentNode) { codePart.parentNode.removeChild(codePart); }
    stateBox.textContent = messages[status] || status;
    if (used) {
      stateBox.textContent += " · " + messages.used.replace("%(shop)s", used.merchant)
        .replace("%(saved)s", (used.saved_cents / 100).toFixed(2).replace(/\.00$/, ""));
    }
    stateBox.classList.add("final", "state-" + status);
  }

  // "AB12C-3DE45-1234" is read out as "A B 1 2 C, 3 D E 4 5, 1 2 3 4": a character at a time, as the
  // cashier types it, with a pause between the groups.
  function spoken(code) {
    return code.split("-").map(function (group) { return group.split("").join(" "); }).join(", ");
  }

  function refreshQr() {
    if (done || !qrBox) { return; }
    fetch(screen.getAttribute("data-qr-url"), {credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (response.status === 409) {
          return response.json().then(function (problem) { checkState(); throw problem; });
        }
        if (!response.ok) { throw new Error(response.status); }
        var code = response.headers.get("X-Voucher-Code");
        var refresh = parseInt(response.headers.get("X-Voucher-Refresh"), 10) || 45;
        return response.text().then(function (svg) {
          qrBox.innerHTML = svg;
          // The box is the image, named "QR code"; the drawing inside it is not a second one.
          qrBox.querySelector("svg").setAttribute("aria-hidden", "true");
          qrBox.classList.remove("stale");
          codeBox.textContent = code;
          codeBox.parentNode.setAttribute("role", "img");
          codeBox.parentNode.setAttribute("aria-label", spoken(code));
          refreshTimer = setTimeout(refreshQr, refresh * 1000);
        });
      })
      .catch(function () {
        if (done) { return; }
        qrBox.classList.add("stale");
        stateBox.textContent = messages.offline;
        refreshTimer = setTimeout(refreshQr, 5000);
      });
  }

  function checkState() {
    fetch(screen.getAttribute("data-state-url"), {credentials: "same-origin", cache: "no-store"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body && body.status !== "claimed") { finish(body.status, body.used); } })
      .catch(function () {});
  }

  if (screen.getAttribute("data-status") === "claimed") {
    refreshQr();
    stateTimer = setInterval(checkState, 4000);
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && !done) { clearTimeout(refreshTimer); refreshQr(); checkState(); }
    });
  }
})();
