/* voronka report: draws the charts from the embedded JSON and makes tables sortable. */
(function () {
  "use strict";

  function drawCharts() {
    var holder = document.getElementById("voronka-charts");
    if (!holder || typeof Plotly === "undefined") { return; }
    var figures = JSON.parse(holder.textContent);
    // The toolbar speaks English only and its tools are not for a head of sales: hidden.
    var config = { displaylogo: false, responsive: true, showLink: false, displayModeBar: false };
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var fig = figures[el.getAttribute("data-chart")];
      if (fig) { Plotly.newPlot(el, fig.data, fig.layout, config); }
    });
  }

  function resizeCharts() {
    if (typeof Plotly === "undefined") { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.data) { Plotly.Plots.resize(el); }
    });
  }

  function compare(a, b, numeric) {
    if (a === "" && b === "") { return 0; }
    if (a === "") { return 1; }   // missing values last, whichever the direction
    if (b === "") { return -1; }
    if (numeric) { return parseFloat(a) - parseFloat(b); }
    return a.localeCompare(b, document.documentElement.lang);
  }

  function sortBy(th) {
    var table = th.closest("table");
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.classList.contains("num");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach(function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var a = r1.cells[index].getAttribute("data-sort");
      var b = r2.cells[index].getAttribute("data-sort");
      if (a === "" || b === "") { return compare(a, b, numeric); }
      var c = compare(a, b, numeric);
      return ascending ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function initTables() {
    document.querySelectorAll("table.sortable th").forEach(function (th) {
      th.addEventListener("click", function () { sortBy(th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(th); }
      });
    });
  }

  function start() {
    initTables();
    drawCharts();
    window.addEventListener("beforeprint", resizeCharts);
    // A chart drawn inside a closed section has no width: redraw it when the section opens.
    document.querySelectorAll("details").forEach(function (d) {
      d.addEventListener("toggle", function () { if (d.open) { resizeCharts(); } });
    });
    window.addEventListener("afterprint", resizeCharts);
  }

  // The web dashboard redraws after replacing part of its page.
  window.voronkaDraw = function () { initTables(); drawCharts(); };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
