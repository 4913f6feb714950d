// The large-type toggle without a page load. Without this script the toggle is a plain link to
// /display/<size>, which sets the same cookie and comes back; either way the server renders the class
// from the cookie on every page after.
(function () {
  "use strict";
  var toggle = document.querySelector("[data-testid=text-size]");
  if (!toggle) return;
  var ONE_YEAR = 365 * 24 * 3600;

  function set(large) {
    document.documentElement.classList.toggle("text-large", large);
    document.body.classList.toggle("text-large", large);
    document.cookie = "text=" + (large ? "large" : "normal") + "; max-age=" + ONE_YEAR + "; path=/; samesite=lax";
    toggle.setAttribute("aria-pressed", large ? "true" : "false");
    toggle.href = large ? toggle.dataset.normalHref : toggle.dataset.largeHref;
  }

  toggle.addEventListener("click", function (event) {
    event.preventDefault();
    set(toggle.getAttribute("aria-pressed") !== "true");
  });
  toggle.addEventListener("keydown", function (event) {
    if (event.key === " ") {  // a button's key; Enter already clicks the link
      event.preventDefault();
      toggle.click();
    }
  });
})();
