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

// A search refined while typing (or filtered, or shown further) is logged once, as its last
// state: the request names the search showing when it continues the same burst of typing (no
// pause of SETTLED_MS, as for the history above) or asks the same query again.
(function () {
  "use strict";
  var SETTLED_MS = 1500;
  var last = 0;
  var continuing = false;
  document.addEventListener("input", function (event) {
    if (!event.target || event.target.id !== "q") { return; }
    var now = Date.now();
    continuing = now - last <= SETTLED_MS;
    last = now;
  });
  document.addEventListener("htmx:configRequest", function (event) {
    var shown = document.getElementById("search-ref");
    var url = new URL(event.detail.path, window.location.href);
    if (!shown || !shown.dataset.ref || url.pathname !== "/") { return; }
    var trigger = event.detail.triggeringEvent;
    var q = event.detail.parameters.q || url.searchParams.get("q");
    if ((trigger && trigger.type === "input" && continuing) || q === shown.dataset.q) {
      event.detail.headers["X-KB-Refines"] = shown.dataset.ref;
    }
  });
})();

// A form sent back with problems: focus its first wrong field (the summary above it is announced).
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var first = document.querySelector("form [aria-invalid='true']");
  if (first) { first.focus(); }
});

// The plan editor: nothing typed is lost. Text not yet saved is sent when the page is left
// (a beacon, which the browser delivers after the page is gone) and leaving asks first; an
// answered autosave clears it.
(function () {
  "use strict";
  var form = null;
  var unsaved = false;
  document.addEventListener("DOMContentLoaded", function () {
    form = document.getElementById("plan-form");
    if (!form) { return; }
    form.addEventListener("input", function () { unsaved = true; });
    document.body.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.elt === form && event.detail.successful) { unsaved = false; }
    });
    form.addEventListener("submit", function () { unsaved = false; });
  });
  function sendUnsaved() {
    if (form && unsaved && navigator.sendBeacon(form.action, new FormData(form))) { unsaved = false; }
  }
  window.addEventListener("pagehide", sendUnsaved);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { sendUnsaved(); }
  });
  window.addEventListener("beforeunload", function (event) {
    if (form && unsaved) { event.preventDefault(); event.returnValue = ""; }
  });
})();

// A form whose step cannot be undone asks first (data-confirm holds the question).
document.addEventListener("submit", function (event) {
  "use strict";
  var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { event.preventDefault(); }
});

// A form whose sending takes a while (a case note: its passages are embedded, its files read)
// says so: its button shows data-busy ("Publishing…") and cannot be pressed twice.
document.addEventListener("submit", function (event) {
  "use strict";
  if (event.defaultPrevented) { return; }
  var button = event.target.querySelector && event.target.querySelector("button[data-busy]");
  if (!button) { return; }
  var status = event.target.querySelector("[data-busy-status]");
  button.disabled = true;  // it has no name: the form sends the same without it
  button.setAttribute("data-idle", button.textContent);
  button.textContent = button.getAttribute("data-busy");
  if (status) { status.textContent = button.getAttribute("data-busy"); }
});
window.addEventListener("pageshow", function (event) {  // back to a page the browser kept: usable again
  "use strict";
  if (!event.persisted) { return; }
  Array.prototype.forEach.call(document.querySelectorAll("button[data-busy]:disabled"), function (button) {
    button.disabled = false;
    button.textContent = button.getAttribute("data-idle");
  });
});

// The plan's table of actions: "Add a row" appends an empty row like the last one.
document.addEventListener("click", function (event) {
  "use strict";
  var button = event.target.closest && event.target.closest("[data-add-row]");
  if (!button) { return; }
  var body = document.getElementById(button.getAttribute("data-add-row")).tBodies[0];
  var row = body.rows[body.rows.length - 1].cloneNode(true);
  var number = body.rows.length + 1;
  Array.prototype.forEach.call(row.querySelectorAll("input"), function (input) {
    input.value = "";
    input.setAttribute("aria-label", input.getAttribute("aria-label").replace(/row \d+$/, "row " + number));
  });
  body.appendChild(row);
  row.querySelector("input").focus();
});

// The search page on a narrow screen: the results come first and the filters after them; the
// "Filters" button above the results shows the filters right below it (moved there in the
// document too, so that Tab reaches them next) and sends them back below the results when
// pressed again. The choice holds while htmx swaps in new results. Without script the button
// stays hidden and the filters stay below the results.
(function () {
  "use strict";
  var open = false;
  function place() {
    var toggle = document.querySelector(".filters-toggle");
    var facets = document.getElementById("facets");
    var results = document.querySelector(".layout > section.results");
    if (!toggle || !facets || !results) { return; }
    toggle.hidden = false;
    var anchor = open ? toggle.parentNode : results;
    if (anchor.nextElementSibling !== facets) {
      var focused = facets.contains(document.activeElement) ? document.activeElement : null;
      anchor.parentNode.insertBefore(facets, anchor.nextSibling);
      if (focused) { focused.focus(); }  // moving an element blurs it
    }
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest(".filters-toggle");
    if (!toggle) { return; }
    open = !open;
    place();
  });
  document.addEventListener("DOMContentLoaded", place);
  document.addEventListener("htmx:afterSwap", place);
})();

// The explorer's heatmap: a cell tapped, clicked, or chosen with Enter or Space names its pilot,
// its twin and how strongly they match in the status line above it (#heatmap-status), which a
// screen reader announces. The grid is one stop for Tab; the arrow keys, Home and End move
// between cells.
(function () {
  "use strict";
  function cellAt(svg, row, col) {
    return svg.querySelector('rect[data-row="' + row + '"][data-col="' + col + '"]');
  }
  function show(cell) {
    var status = document.getElementById("heatmap-status");
    if (!status) { return; }
    var svg = cell.ownerSVGElement;
    Array.prototype.forEach.call(svg.querySelectorAll("rect.selected"), function (other) {
      other.classList.remove("selected");
    });
    cell.classList.add("selected");
    status.textContent = cell.getAttribute("aria-label");
  }
  function current(cell) {  // the grid's one stop for Tab
    Array.prototype.forEach.call(cell.ownerSVGElement.querySelectorAll("rect[data-row][tabindex='0']"), function (other) {
      other.setAttribute("tabindex", "-1");
    });
    cell.setAttribute("tabindex", "0");
  }
  function move(cell, row, col) {
    var next = cellAt(cell.ownerSVGElement, row, col);
    if (!next) { return; }
    current(next);
    next.focus();
  }
  document.addEventListener("click", function (event) {
    var cell = event.target.closest && event.target.closest("svg.heatmap rect[data-row]");
    if (!cell) { return; }
    current(cell);
    show(cell);
  });
  document.addEventListener("keydown", function (event) {
    var cell = event.target.closest && event.target.closest("svg.heatmap rect[data-row]");
    if (!cell) { return; }
    var row = Number(cell.getAttribute("data-row"));
    var col = Number(cell.getAttribute("data-col"));
    var steps = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (event.key === "Enter" || event.key === " ") {
      show(cell);
    } else if (steps[event.key]) {
      move(cell, row + steps[event.key][0], col + steps[event.key][1]);
    } else if (event.key === "Home") {
      move(cell, row, 0);
    } else if (event.key === "End") {
      var last = cell.ownerSVGElement.querySelectorAll('rect[data-row="' + row + '"]');
      move(cell, row, last.length - 1);
    } else {
      return;
    }
    event.preventDefault();
  });
})();
