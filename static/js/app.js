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
})();
