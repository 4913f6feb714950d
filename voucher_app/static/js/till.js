// The till: reads the voucher's QR with the camera (jsQR, vendored) or takes the typed code, asks the
// server what the voucher is, and shows its rule before the cashier enters the bill.
(function () {
  "use strict";
  var till = document.querySelector("[data-testid=till]");
  if (!till) { return; }
  var tokenInput = till.querySelector("#token");
  var info = till.querySelector("[data-testid=voucher-info]");
  var bill = till.querySelector("#bill");
  var preview = till.querySelector("[data-testid=bill-preview]");
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var messages = {};
  // The phrases sit in a <template>, whose children live in its .content, not in the page.
  Array.prototype.forEach.call(document.getElementById("till-messages").content.querySelectorAll("[data-key]"), function (node) {
    messages[node.getAttribute("data-key")] = node.textContent;
  });

  // The server says what the voucher is and what the bill typed so far would come to (the same rule
  // the sale applies: a percent voucher's discount rounded down to the fen, up to its cap).
  function check(withBill) {
    var token = tokenInput.value.trim();
    if (token.length < 14) { info.textContent = ""; preview.textContent = ""; return; }
    fetch(till.getAttribute("data-check-url"), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify({token: token, bill: bill.value})
    }).then(function (r) { return r.json(); }).then(function (answer) {
      info.classList.toggle("bad", !answer.ok);
      if (answer.ok) {
        info.textContent = messages.rule.replace("%(rule)s", answer.rule) + " · " + answer.campaign;
        preview.textContent = answer.preview ? answer.preview.text : "";
        preview.classList.toggle("bad", Boolean(answer.preview && answer.preview.below_threshold));
        if (!withBill) { bill.focus(); }
      } else {  // a refusal, or the session-expired problem (title only): sending the form says the rest
        info.textContent = answer.message || answer.title || "";
        preview.textContent = "";
      }
    }).catch(function () { info.textContent = ""; preview.textContent = ""; });
  }

  // The answer to a sale is this page at /till/redeem; put the till's own address back, so that
  // reloading it does not send the sale again and a form sent from here comes back to /till.
  if (location.pathname !== till.getAttribute("data-till-url") && window.history.replaceState) {
    window.history.replaceState(null, "", till.getAttribute("data-till-url"));
  }

  var timer = null;
  tokenInput.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { check(false); }, 300); });
  bill.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { check(true); }, 300); });

  var cameraButton = till.querySelector("[data-action=camera]");
  var cameraBox = till.querySelector(".camera");
  var video = cameraBox.querySelector("video");
  var canvas = cameraBox.querySelector("canvas");
  var stream = null;

  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    cameraBox.hidden = true;
  }

  function scan() {
    if (!stream) { return; }
    if (video.readyState === video.HAVE_ENOUGH_DATA && window.jsQR) {
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      var context = canvas.getContext("2d");
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(image.data, image.width, image.height, {inversionAttempts: "dontInvert"});
      if (code && code.data) {
        tokenInput.value = code.data;
        stop();
        check(false);
        return;
      }
    }
    requestAnimationFrame(scan);
  }

  cameraButton.addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      info.textContent = messages["no-camera"]; return;
    }
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}}).then(function (s) {
      stream = s; video.srcObject = s; cameraBox.hidden = false; video.play(); requestAnimationFrame(scan);
    }).catch(function () { info.textContent = messages["no-camera"]; });
  });
})();
