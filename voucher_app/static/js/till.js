// The till: reads the voucher's QR with the camera (jsQR, vendored) or takes the typed code, asks the
// server what the voucher is, and shows its rule before the cashier enters the bill.
(function () {
  "use strict";
  var till = document.querySelector("[data-testid=till]");
  if (!till) { return; }
  var tokenInput = till.querySelector("#token");
  var info = till.querySelector("[data-testid=voucher-info]");
  var bill = till.querySelector("#bill");
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var messages = {};
  // The phrases sit in a <template>, whose children live in its .content, not in the page.
  Array.prototype.forEach.call(document.getElementById("till-messages").content.querySelectorAll("[data-key]"), function (node) {
    messages[node.getAttribute("data-key")] = node.textContent;
  });

  function yuan(cents) { return (cents / 100).toFixed(2).replace(/\.00$/, ""); }

  function check() {
    var token = tokenInput.value.trim();
    if (token.length < 14) { info.textContent = ""; return; }
    fetch(till.getAttribute("data-check-url"), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify({token: token})
    }).then(function (r) { return r.json(); }).then(function (answer) {
      info.classList.toggle("bad", !answer.ok);
      if (answer.ok) {
        var rule = answer.threshold_cents > 0
          ? "满" + yuan(answer.threshold_cents) + "减" + yuan(answer.discount_cents)
          : yuan(answer.discount_cents) + "元无门槛";
        if (document.documentElement.lang === "en") {
          rule = yuan(answer.discount_cents) + " off" +
            (answer.threshold_cents > 0 ? " a bill of " + yuan(answer.threshold_cents) : "");
        }
        info.textContent = messages.rule.replace("%(rule)s", rule) + " · " + answer.campaign;
        bill.focus();
      } else {
        info.textContent = answer.message;
      }
    }).catch(function () { info.textContent = ""; });
  }

  var timer = null;
  tokenInput.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 300); });

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
        check();
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
