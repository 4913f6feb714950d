// What a person typed survives a refused form: a session that ended while the form was open, an error page.
//
// On submit, the form's visible fields are kept in sessionStorage (this tab only, gone when it closes) under
// the page's path and the form's action. The page that answers the submit decides what happens to that copy:
//   - a page marked data-keep="hold" (the session-expired page), an error page (.error-card), a form
//     shown again with its errors ([role=alert]) or a flashed error (.flash-error) keeps it;
//   - any other page means the form went through: the copy is dropped.
// When the form's page loads again with the form untouched (every field as the server sent it), the copy
// is put back, and each field gets an "input" event so the page's own scripts react as if it had been typed.
// Fields a page's script adds later (a row added to a table) are not there to take their values.
// A copy older than KEEP_MINUTES is never put back.
//
// Never kept: passwords, hidden inputs (the CSRF token among them), files, one-time codes, and any field
// or form marked data-keep="off". A form marked data-keep="forget" (signing out) drops every copy.
(function () {
  "use strict";
  var PREFIX = "keep-forms:";
  var PENDING = PREFIX + "pending";
  var KEEP_MINUTES = 30;
  var store;
  try { store = window.sessionStorage; store.getItem(PENDING); } catch (e) { return; }  // storage blocked

  function keepable(field) {
    var type = (field.type || "").toLowerCase();
    return field.name && !field.disabled && field.name !== "csrf_token" &&
      ["password", "hidden", "file", "submit", "button", "reset", "image"].indexOf(type) < 0 &&
      (field.getAttribute("autocomplete") || "") !== "one-time-code" &&
      !field.closest("[data-keep=off]");
  }

  function fieldsOf(form) {
    return Array.prototype.filter.call(form.elements, keepable);
  }

  // The page's path and where the form posts: the same form on the same page, whoever is signed in
  // (the header's sign-out form comes and goes).
  function keyOf(form) {
    return PREFIX + location.pathname + "|" + (form.getAttribute("action") || "");
  }

  function save(form) {
    var values = fieldsOf(form).map(function (field) {
      if (field.type === "checkbox" || field.type === "radio") {
        return {name: field.name, value: field.value, checked: field.checked};
      }
      if (field.tagName === "SELECT" && field.multiple) {
        return {name: field.name, values: Array.prototype.filter.call(field.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; })};
      }
      return {name: field.name, value: field.value};
    });
    store.setItem(keyOf(form), JSON.stringify({at: Date.now(), values: values}));
    store.setItem(PENDING, keyOf(form));
  }

  function forgetAll() {
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (key && key.indexOf(PREFIX) === 0) { store.removeItem(key); }
    }
  }

  // Untouched: every field as the server sent it (a new form's defaults, a saved draft's values, a refused
  // form's values as sent). Anything the person or the browser itself changed since is never overwritten.
  function isUntouched(form) {
    return fieldsOf(form).every(function (field) {
      if (field.type === "checkbox" || field.type === "radio") { return field.checked === field.defaultChecked; }
      if (field.tagName === "SELECT") {
        var marked = Array.prototype.some.call(field.options, function (o) { return o.defaultSelected; });
        return Array.prototype.every.call(field.options, function (o, i) {
          // A single choice without a "selected" option shows its first one.
          var initially = marked || field.multiple ? o.defaultSelected : i === 0;
          return o.selected === initially;
        });
      }
      return field.value === field.defaultValue;
    });
  }

  function restore(form, kept) {
    var fields = fieldsOf(form);
    kept.values.forEach(function (saved) {
      fields.forEach(function (field) {
        if (field.name !== saved.name) { return; }
        if (field.type === "checkbox" || field.type === "radio") {
          if (field.value === saved.value) { field.checked = saved.checked; } else { return; }
        } else if (saved.values) {
          Array.prototype.forEach.call(field.options, function (o) { o.selected = saved.values.indexOf(o.value) >= 0; });
        } else {
          field.value = saved.value;
        }
        field.dispatchEvent(new Event("input", {bubbles: true}));
        field.dispatchEvent(new Event("change", {bubbles: true}));
      });
    });
  }

  function refused() {
    return Boolean(document.querySelector("[data-keep=hold], .error-card, [role=alert], .flash-error"));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented) { return; }  // not sent after all (a confirm() said no, a script sends it)
    if (form.getAttribute("data-keep") === "forget") { forgetAll(); return; }
    if (form.getAttribute("data-keep") === "off") { return; }
    if (fieldsOf(form).length) { save(form); }
  });

  // After the page's own scripts (deferred, like this one) have set up their listeners.
  document.addEventListener("DOMContentLoaded", function () {
    var pending = store.getItem(PENDING);
    if (pending) {
      store.removeItem(PENDING);
      if (!refused()) { store.removeItem(pending); }
    }
    Array.prototype.forEach.call(document.forms, function (form) {
      var key = keyOf(form);
      var kept = null;
      try { kept = JSON.parse(store.getItem(key) || "null"); } catch (e) { kept = null; }
      if (!kept) { return; }
      if (Date.now() - kept.at > KEEP_MINUTES * 60 * 1000) { store.removeItem(key); return; }
      if (isUntouched(form) && fieldsOf(form).length) { restore(form, kept); }
    });
  });
})();
