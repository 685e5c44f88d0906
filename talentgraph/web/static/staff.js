// The staff page's only script of its own (htmx does the rest). Kept out of the HTML so the page's
// Content-Security-Policy can refuse every inline script.
(function () {
  "use strict";
  // Ticking a facet runs the search again at once; the "Apply filters" button does the same for
  // anyone without JavaScript. htmx keeps focus on the checkbox (same id) after the swap.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box instanceof HTMLInputElement && box.type === "checkbox" && box.name === "f" && box.form) {
      box.form.requestSubmit();
    }
  });
  // On a phone the filters start folded under their heading, so the results are on the first
  // screen; they stay open while a filter is ticked. Without the script they are simply open.
  function foldFacets() {
    var facets = document.getElementById("facets");
    if (facets && window.matchMedia("(max-width: 799px)").matches &&
        !facets.querySelector("input[type=checkbox]:checked")) {
      facets.removeAttribute("open");
    }
  }
  document.addEventListener("DOMContentLoaded", foldFacets);
  document.addEventListener("htmx:afterSettle", foldFacets);
})();
