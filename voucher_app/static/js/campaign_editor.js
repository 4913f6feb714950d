// The campaign editor's tables and live totals. The form works without this script (the server
// renders every row plus a spare one, and computes the totals on each save); the script adds and
// removes rows, keeps the rounds' quantity columns in step with the tier rows, and recomputes
// the budget exposure (Σ quantity × discount), what the budget leaves over or lacks, and how much
// of each tier the rounds release, as the user types. Amounts are counted in integer fen. It also
// shows only the inputs that count: a round's release time or its lottery window (by the campaign's
// allocation), a tier's discount or its percent and cap (by the tier's kind).
(function () {
  "use strict";
  var form = document.querySelector("[data-campaign-editor]");
  if (!form) { return; }
  form.classList.add("js-on");

  var tiersTable = form.querySelector("[data-tiers]");
  var roundsTable = form.querySelector("[data-rounds]");
  var tiersBody = tiersTable.tBodies[0];
  var roundsBody = roundsTable.tBodies[0];
  var roundsHeadRow = roundsTable.tHead.rows[0];
  var tierTemplate = document.getElementById("tier-row-template");
  var roundTemplate = document.getElementById("round-row-template");
  var qTemplate = document.getElementById("q-cell-template");
  var totals = form.querySelector("[data-testid=totals]");

  function all(root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }
  function tierRows() { return all(tiersBody, "[data-tier-row]"); }
  function roundRows() { return all(roundsBody, "[data-round-row]"); }
  function qCells(row) { return all(row, "[data-q-cell]"); }
  function qHeads() { return all(roundsHeadRow, "[data-q-head]"); }
  function field(row, name) { return row.querySelector("[data-field=" + name + "]"); }
  function fromTemplate(template) { return template.content.firstElementChild.cloneNode(true); }

  // "1,280.5" → 128050 fen; null when it is not an amount the server would accept.
  function cents(text) {
    var match = /^(\d{1,12})(?:\.(\d*))?$/.exec((text || "").replace(/[\s,，]/g, ""));
    if (!match) { return null; }
    var fraction = (match[2] || "").replace(/0+$/, "");
    if (fraction.length > 2) { return null; }
    return Number(match[1]) * 100 + Number((fraction + "00").slice(0, 2));
  }
  function count(text) {
    var cleaned = (text || "").replace(/[\s,，]/g, "");
    return /^\d{1,9}$/.test(cleaned) ? Number(cleaned) : null;
  }
  function yuan(fen) {
    var whole = Math.floor(fen / 100), part = fen % 100;
    return String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + (part < 10 ? "0" : "") + part;
  }

  // Names follow the row's place: tiers-<i>-<field> (its kind and reserved quotas too),
  // rounds-<r>-<time>, rounds-<r>-q-<i>.
  function setName(input, name) {
    input.name = name;
    input.id = name;
  }
  function renumber() {
    var heading = roundsTable.getAttribute("data-tier-heading");
    tierRows().forEach(function (row, i) {
      row.querySelector("[data-row-no]").textContent = i + 1;
      all(row, "[data-field]").forEach(function (input) {
        setName(input, "tiers-" + i + "-" + input.getAttribute("data-field"));
      });
      var title = field(row, "name").value.trim() || heading.replace("{n}", i + 1);
      if (qHeads()[i]) { qHeads()[i].textContent = title; }
    });
    roundRows().forEach(function (row, r) {
      row.querySelector("[data-row-no]").textContent = r + 1;
      all(row, "[data-field]").forEach(function (input) {
        var name = input.getAttribute("data-field");
        if (name !== "q") { setName(input, "rounds-" + r + "-" + name); }
      });
      qCells(row).forEach(function (cell, i) {
        setName(cell.querySelector("input"), "rounds-" + r + "-q-" + i);
      });
    });
  }

  function recompute() {
    var rows = tierRows();
    var released = rows.map(function () { return 0; });
    roundRows().forEach(function (row) {
      qCells(row).forEach(function (cell, i) { released[i] += count(cell.querySelector("input").value) || 0; });
    });
    var format = tiersTable.getAttribute("data-released-format");
    var exposure = 0;
    rows.forEach(function (row, i) {
      var quantity = count(field(row, "quantity").value) || 0;
      var most = field(row, "kind").value === "percent" ? "cap" : "discount";  // the most a voucher is worth
      exposure += quantity * (cents(field(row, most).value) || 0);
      var cell = row.querySelector("[data-released]");
      cell.textContent = format.replace("{released}", released[i]).replace("{quantity}", quantity);
      cell.classList.toggle("mismatch", released[i] !== quantity);
    });
    var budget = cents(form.elements.budget.value) || 0;
    var balance = totals.querySelector("[data-total=balance]");
    var short = exposure > budget;
    totals.querySelector("[data-total=exposure]").textContent = yuan(exposure);
    totals.querySelector("[data-total=budget]").textContent = yuan(budget);
    balance.querySelector("[data-balance-label]").textContent =
      balance.getAttribute(short ? "data-short-label" : "data-left-label");
    balance.querySelector("[data-balance-amount]").textContent = yuan(Math.abs(budget - exposure));
    balance.classList.toggle("short", short);
  }

  function addTier() {
    tiersBody.appendChild(fromTemplate(tierTemplate));
    var head = document.createElement("th");
    head.className = "num";
    head.setAttribute("data-q-head", "");
    roundsHeadRow.insertBefore(head, roundsHeadRow.lastElementChild);
    roundRows().forEach(function (row) { row.insertBefore(fromTemplate(qTemplate), row.lastElementChild); });
  }
  function removeTier(row) {
    var i = tierRows().indexOf(row);
    row.remove();
    qHeads()[i].remove();
    roundRows().forEach(function (round) { qCells(round)[i].remove(); });
  }
  function addRound() {
    var row = fromTemplate(roundTemplate);
    tierRows().forEach(function () { row.insertBefore(fromTemplate(qTemplate), row.lastElementChild); });
    roundsBody.appendChild(row);
    return row;
  }

  function isBlank(inputs) {
    return inputs.every(function (input) { return !input.value.trim(); });
  }
  // The server ends each table with a spare row for browsers without this script; with it, the
  // buttons add rows, so a blank last row goes. Only the last: other rows keep their numbers, which
  // the error summary's links point at.
  function dropSpareRows() {
    var tiers = tierRows(), last = tiers.length - 1;
    var column = roundRows().map(function (round) { return qCells(round)[last].querySelector("input"); });
    if (tiers.length > 1 && isBlank(all(tiers[last], "input").concat(column))) { removeTier(tiers[last]); }
    var rounds = roundRows();
    if (rounds.length > 1 && isBlank(all(rounds[rounds.length - 1], "input"))) { rounds[rounds.length - 1].remove(); }
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[type=button]");
    if (!button) { return; }
    if (button.hasAttribute("data-add-tier")) {
      addTier();
    } else if (button.hasAttribute("data-add-round")) {
      addRound();
    } else if (button.hasAttribute("data-remove-tier")) {
      if (tierRows().length > 1) { removeTier(button.closest("tr")); }
    } else if (button.hasAttribute("data-remove-round")) {
      if (roundRows().length > 1) { button.closest("tr").remove(); }
    } else {
      return;
    }
    renumber();
    recompute();
    var focus = button.hasAttribute("data-add-tier") ? tierRows().slice(-1)[0]
      : button.hasAttribute("data-add-round") ? roundRows().slice(-1)[0] : null;
    if (focus) { focus.querySelector("input").focus(); }
  });
  function showKinds() {
    tierRows().forEach(function (row) { row.setAttribute("data-kind", field(row, "kind").value); });
    var chosen = form.querySelector("[data-allocation-choice]:checked");
    form.setAttribute("data-allocation", chosen ? chosen.value : "fcfs");
  }

  form.addEventListener("input", function (event) {
    if (event.target.getAttribute("data-field") === "name") { renumber(); }
    recompute();
  });
  form.addEventListener("change", function () {
    showKinds();
    recompute();
  });

  dropSpareRows();
  renumber();
  showKinds();
  recompute();
})();
