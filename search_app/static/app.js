// One history entry per settled query. Typing replaces the current entry (hx-replace-url on the
// search form), so Back does not step through every pause; the first keystroke after a pause of
// SETTLED_MS keeps what was showing (a query, or the empty search page) as an entry of its own.
// Back then reloads that address (htmx-config: no history cache; pages say Vary: HX-Request),
// and the server renders the query with its results.
(function () {
  "use strict";
  var SETTLED_MS = 1500;
  var last = 0;
  document.addEventListener("input", function (event) {
    if (!event.target || event.target.id !== "q") { return; }
    var now = Date.now();
    if (now - last > SETTLED_MS) {
      window.history.pushState({ htmx: true }, "", window.location.href);
    }
    last = now;
  });
  // The page's first entry carries no htmx state, so htmx leaves it alone on Back: show what
  // its address says.
  window.addEventListener("popstate", function (event) {
    if (!event.state || !event.state.htmx) { window.location.reload(); }
  });
})();

// A form sent back with problems: focus its first wrong field (the summary above it is announced).
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var first = document.querySelector("form [aria-invalid='true']");
  if (first) { first.focus(); }
});
