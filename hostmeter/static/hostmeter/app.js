// hostmeter's small script: the viewer's time zone, and selection highlighting.
// Pages work without it; htmx (served from our own static files) does the rest.
(function () {
  "use strict";
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("hostmeter_tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "hostmeter_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* old browser: the provider's time zone is used */ }

  function markRows(root) {
    root.querySelectorAll("tbody input[type=checkbox][name=selected]").forEach(function (box) {
      var row = box.closest("tr");
      if (row) { row.classList.toggle("selected", box.checked); }
    });
  }
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.matches && box.matches("input[data-select-all]")) {
      var form = box.form;
      form.querySelectorAll("tbody input[type=checkbox][name=selected]").forEach(function (b) {
        b.checked = box.checked;
      });
      form.dispatchEvent(new Event("selectionchange", { bubbles: true }));
    }
    if (box.matches && box.matches("select[data-submit-on-change]") && box.form) {
      box.form.submit();
      return;
    }
    if (box.form) { markRows(box.form); }
  });
  document.addEventListener("DOMContentLoaded", function () { markRows(document); });
})();
