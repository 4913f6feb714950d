// Forms that must be neither lost nor done twice — a claim, a lottery entry, a sale at the till — resend
// themselves when the network fails or the server answers "busy" (502/503/504), always with the same body,
// so with the same idempotency key the form carries (claim_key, entry_key, key): if the first attempt did
// go through, the server answers the retry with the first answer instead of doing it again.
//
// A form opts in with data-resend. Its submit is sent with fetch; while it retries, a status line under
// the form says so ("Network slow, retrying…"), with back-off and jitter (a crowd's retries must not arrive
// together) and the server's Retry-After when it gives one. The first real answer (a page, a refusal, the
// session-expired page) replaces this page, as a normal submit would have. After MAX_TRIES the form is
// given back with a message; pressing again resends the same key, so it still cannot count twice.
// Without fetch the form is sent the ordinary way.
(function () {
  "use strict";
  var MAX_TRIES = 8;
  var TIMEOUT_MS = 20000;
  var BUSY = [502, 503, 504];

  function phrase(key) {
    var template = document.getElementById("resend-messages");
    var node = template && template.content.querySelector("[data-key=" + key + "]");
    return node ? node.textContent : "";
  }

  function statusLine(form) {
    var line = form.querySelector("[data-resend-status]");
    if (!line) {
      line = document.createElement("p");
      line.className = "resend-status";
      line.setAttribute("data-resend-status", "");
      line.setAttribute("data-testid", "resend-status");
      line.setAttribute("role", "status");
      form.appendChild(line);
    }
    return line;
  }

  // 0.5 s, 1 s, 2 s … up to 8 s, each between half and one and a half times that; Retry-After wins.
  function pause(tries, retryAfter) {
    var base = retryAfter > 0 ? Math.min(retryAfter, 10) * 1000 : Math.min(500 * Math.pow(2, tries - 1), 8000);
    return base * (0.5 + Math.random());
  }

  function show(url, html) {
    if (window.history.replaceState) { window.history.replaceState(null, "", url); }
    document.open();
    document.write(html);
    document.close();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-resend") || event.defaultPrevented || !window.fetch || !window.URLSearchParams) { return; }
    event.preventDefault();
    if (form.getAttribute("data-resending") === "1") { return; }  // a second press while it is on its way
    // Encoded as the browser would send the form itself (application/x-www-form-urlencoded).
    var body = new URLSearchParams(new FormData(form));
    if (event.submitter && event.submitter.name) { body.append(event.submitter.name, event.submitter.value); }
    var buttons = form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]");
    var line = statusLine(form);
    var tries = 0;
    form.setAttribute("data-resending", "1");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });

    function giveBack() {
      form.removeAttribute("data-resending");
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
      line.textContent = phrase("gave-up");
    }

    function retry(retryAfter) {
      if (tries >= MAX_TRIES) { giveBack(); return; }
      line.textContent = phrase("retrying").replace("%(n)s", String(tries));
      setTimeout(attempt, pause(tries, retryAfter));
    }

    function attempt() {
      tries += 1;
      var controller = window.AbortController ? new AbortController() : null;
      var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
      fetch(form.action, {method: "POST", body: body, credentials: "same-origin",
                          headers: {"Accept": "text/html"}, signal: controller ? controller.signal : undefined})
        .then(function (response) {
          clearTimeout(timer);
          if (BUSY.indexOf(response.status) >= 0) {
            retry(parseFloat(response.headers.get("Retry-After") || "0"));
            return null;
          }
          return response.text().then(function (html) { show(response.url, html); });
        })
        .catch(function () { clearTimeout(timer); retry(0); });
    }

    attempt();
  });
})();
