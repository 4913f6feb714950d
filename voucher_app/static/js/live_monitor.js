// The live rush monitor: reads live.json every two seconds and rewrites the figures the server already
// rendered. Claims per second come from two successive readings, timed by the server's clock (the
// "at" of each reading), so a slow network or a throttled background tab does not distort the rate.
(function () {
  "use strict";
  var monitor = document.querySelector("[data-testid=live-monitor]");
  if (!monitor) { return; }
  var INTERVAL_MS = 2000;
  var url = monitor.getAttribute("data-url");
  var zone = monitor.getAttribute("data-zone");
  var locale = monitor.getAttribute("data-locale");
  var previous = {at: Date.parse(monitor.getAttribute("data-at")), claimed: parseInt(monitor.getAttribute("data-claimed"), 10)};
  var timer = null;

  function field(name) { return monitor.querySelector("[data-live=" + name + "]"); }

  function grouped(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

  function clockTime(ms) {
    try {
      return new Date(ms).toLocaleTimeString(locale, {timeZone: zone, hour12: false});
    } catch (e) {  // an unknown zone on an old browser: the visitor's own clock is better than nothing
      return new Date(ms).toLocaleTimeString();
    }
  }

  function show(reading) {
    var at = Date.parse(reading.at);
    field("claimed").textContent = grouped(reading.claimed);
    field("remaining").textContent = grouped(reading.remaining);
    field("released").textContent = grouped(reading.released);
    field("at").textContent = clockTime(at);
    field("at").setAttribute("datetime", reading.at);
    var seconds = (at - previous.at) / 1000;
    if (seconds > 0) {
      var rate = Math.max(reading.claimed - previous.claimed, 0) / seconds;
      field("rate").textContent = rate.toFixed(1);
      previous = {at: at, claimed: reading.claimed};
    }
    reading.tiers.forEach(function (tier) {
      var row = monitor.querySelector("tr[data-tier-id='" + tier.id + "']");
      if (!row) { return; }
      row.querySelector("[data-field=released]").textContent = grouped(tier.released);
      row.querySelector("[data-field=claimed]").textContent = grouped(tier.claimed);
      row.querySelector("[data-field=remaining]").textContent = grouped(tier.remaining);
      var bar = row.querySelector("[data-field=progress]");
      bar.max = tier.released || 1;
      bar.value = Math.min(tier.claimed, tier.released);
    });
    monitor.setAttribute("data-status", reading.status);
  }

  function poll() {
    clearTimeout(timer);
    fetch(url, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();  // a sign-in page instead of JSON (session ended) fails here too
      })
      .then(function (reading) { field("offline").hidden = true; show(reading); })
      .catch(function () { field("offline").hidden = false; })
      .then(function () { if (!document.hidden) { timer = setTimeout(poll, INTERVAL_MS); } });
  }

  field("note").hidden = false;
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { clearTimeout(timer); } else { poll(); }
  });
  timer = setTimeout(poll, INTERVAL_MS);
})();
