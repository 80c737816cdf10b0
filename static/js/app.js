// devportal: small enhancements only; every page works without this file.
(function () {
  "use strict";
  // "Add a route" on the service template form: clone the last blank row.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-add-row]");
    if (btn) {
      e.preventDefault();
      var list = document.getElementById(btn.getAttribute("data-add-row"));
      var tpl = list && list.querySelector("[data-row-template]");
      if (!tpl) return;
      var row = tpl.cloneNode(true);
      row.removeAttribute("data-row-template");
      row.querySelectorAll("input, textarea").forEach(function (el) { if (el.type !== "hidden") el.value = ""; else if (el.name.indexOf("template_id") >= 0) el.value = ""; });
      row.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
      row.querySelectorAll(".error").forEach(function (el) { el.remove(); });
      list.appendChild(row);
      return;
    }
    var copy = e.target.closest("[data-copy]");
    if (copy && navigator.clipboard) {
      e.preventDefault();
      var el = document.getElementById(copy.getAttribute("data-copy"));
      if (el) navigator.clipboard.writeText(el.textContent.trim()).then(function () { copy.textContent = "Copied"; });
    }
  });
  // Try-it: send the form in the background and replace only its section
  // (without JavaScript the form posts and the whole page comes back).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("[data-try-form]") || !window.fetch || !window.DOMParser) return;
    e.preventDefault();
    var btn = form.querySelector("button[type=submit]");
    if (btn) { btn.disabled = true; btn.textContent = "Sending…"; }
    fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("try");
        var cur = document.getElementById("try");
        if (next && cur) cur.replaceWith(next); else form.submit();
      })
      .catch(function () { form.submit(); });
  });
})();
