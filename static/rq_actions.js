// django-rq's job lists: the select-all box and the row checkboxes (django-rq's pages call the
// jQuery plugin `$(...).actions()`, which Django's admin dropped in 4.1, and admin's actions.js
// needs a counter those pages do not have). Loaded by templates/django_rq/_admin_actions.html.
(function () {
  "use strict";
  function setUp() {
    const rows = Array.from(document.querySelectorAll("tr input.action-select"));
    const all = document.getElementById("action-toggle");
    function mark() {
      rows.forEach(function (box) {
        box.closest("tr").classList.toggle("selected", box.checked);
      });
      if (all) {
        all.checked = rows.length > 0 && rows.every(function (box) { return box.checked; });
      }
    }
    if (all) {
      all.addEventListener("click", function () {
        rows.forEach(function (box) { box.checked = all.checked; });
        mark();
      });
    }
    rows.forEach(function (box) { box.addEventListener("change", mark); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
