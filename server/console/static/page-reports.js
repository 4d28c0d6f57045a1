/* faceclock console: Reports — the summary per person over a range (GET /api/v1/attendance/summary), a small chart
 * of lateness and overtime per week (the same summary asked once per week), and the CSV download
 * (GET /attendance/report.csv, fetched with the session's token and saved by the browser). */
(function () {
  "use strict";

  var FC = window.FC, api = FC.api, ui = FC.ui, h = ui.h, T = ui.T, i18n = FC.i18n;
  var WEEKS = 8;
  var SVG = "http://www.w3.org/2000/svg";

  function s(tag, attrs, text) {
    var el = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (text !== undefined) el.textContent = text;
    return el;
  }
  function totals(users, key) { return users.reduce(function (a, u) { return a + (u[key] || 0); }, 0); }

  // Grouped bars: per week, late minutes and overtime minutes (hours on the axis). A table with the same numbers
  // follows for screen readers and for reading exact values.
  function chart(weeks) {
    var W = 640, H = 220, L = 48, B = 36, top = 12, max = 60;
    weeks.forEach(function (w) { max = Math.max(max, w.late, w.overtime); });
    max = Math.ceil(max / 60) * 60;  // whole hours on the axis
    var step = (W - L - 8) / weeks.length, bar = Math.min(22, step / 3);
    var y = function (v) { return H - B - (H - B - top) * v / max; };
    var svg = s("svg", { viewBox: "0 0 " + W + " " + H, class: "chart", role: "img", "aria-labelledby": "chart-title" });
    svg.appendChild(s("title", { id: "chart-title" }, T("console.reports.chartTitle")));
    [0, 0.5, 1].forEach(function (f) {
      var v = max * f;
      svg.appendChild(s("line", { x1: L, x2: W - 4, y1: y(v), y2: y(v), class: "gridline" }));
      svg.appendChild(s("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, i18n.number(v / 60, { maximumFractionDigits: 1 }) + " h"));
    });
    weeks.forEach(function (w, i) {
      var x = L + i * step + step / 2;
      svg.appendChild(s("rect", { x: x - bar - 1, y: y(w.late), width: bar, height: Math.max(0, H - B - y(w.late)), class: "bar-late" }));
      svg.appendChild(s("rect", { x: x + 1, y: y(w.overtime), width: bar, height: Math.max(0, H - B - y(w.overtime)), class: "bar-overtime" }));
      svg.appendChild(s("text", { x: x, y: H - B + 16, "text-anchor": "middle", class: "axis" }, i18n.day(w.from, { year: undefined })));
    });
    var legend = h("p", { class: "legend" }, h("span", { class: "swatch bar-late" }), " " + T("console.reports.late") + "  ",
                   h("span", { class: "swatch bar-overtime" }), " " + T("console.reports.overtime"));
    var data = ui.table([
      { key: "console.reports.week", head: true, cell: function (w) { return T("console.reports.weekOf", { date: i18n.day(w.from) }); } },
      { key: "console.reports.late", cell: function (w) { return ui.minutes(w.late); } },
      { key: "console.reports.lateDays", cell: function (w) { return i18n.number(w.lateDays); } },
      { key: "console.reports.overtime", cell: function (w) { return ui.minutes(w.overtime); } }
    ], weeks, { caption: T("console.reports.chartTitle"), cls: "compact" });
    return h("figure", { class: "chart-box", id: "weekly-chart" }, svg, legend, h("details", null, h("summary", { text: T("console.reports.chartNumbers") }), data));
  }

  function render(view) {
    var from = ui.input({ type: "date", id: "report-from", value: ui.addDays(ui.today(), -27) });
    var to = ui.input({ type: "date", id: "report-to", value: ui.today() });
    var table = h("div", { id: "report-table", "aria-live": "polite" });
    var chartBox = h("div", { id: "report-chart" });
    var csv = ui.button("console.reports.csv", function () {
      csv.disabled = true;
      api.download("/api/v1/attendance/report.csv", { from: from.value, to: to.value }, "attendance.csv")
        .then(function (name) { ui.notify(T("console.reports.downloaded", { name: name }), "ok"); document.body.dataset.downloaded = name; }, ui.fail)
        .finally(function () { csv.disabled = false; });
    }, "", { id: "report-csv" });
    view.appendChild(h("form", { class: "toolbar", onsubmit: function (ev) { ev.preventDefault(); load(); } },
      ui.field("console.col.from", from), ui.field("console.col.to", to),
      h("button", { type: "submit", class: "primary", text: T("console.reports.show") }), csv));
    view.appendChild(h("h2", { text: T("console.reports.perPerson") }));
    view.appendChild(table);
    view.appendChild(h("h2", { text: T("console.reports.perWeek") }));
    view.appendChild(chartBox);

    function load() {
      api.get("/api/v1/attendance/summary", { from: from.value, to: to.value }).then(function (sum) {
        var users = sum.users.filter(function (u) { return u.days > 0; });
        ui.clear(table).appendChild(ui.table([
          { key: "console.col.name", head: true, cell: function (u) { return FC.link(u.full_name, "days", null, { user: u.user_id, from: sum.from, to: sum.to }); } },
          { key: "console.col.code", cell: function (u) { return u.employee_code; } },
          { key: "console.reports.present", cell: function (u) { return i18n.number(u.days_present); } },
          { key: "console.reports.lateDays", cell: function (u) { return i18n.number(u.late_count); } },
          { key: "console.reports.absences", cell: function (u) { return i18n.number(u.absences); } },
          { key: "console.reports.incomplete", cell: function (u) { return i18n.number(u.incomplete); } },
          { key: "console.reports.worked", cell: function (u) { return ui.minutes(u.worked_minutes); } },
          { key: "console.reports.late", cell: function (u) { return ui.minutes(u.late_minutes); } },
          { key: "console.reports.overtime", cell: function (u) { return ui.minutes(u.overtime_minutes); } }
        ], users, { emptyKey: "console.reports.none", caption: T("console.reports.perPerson"), captionHidden: true,
                    rowAttrs: function (u) { return { "data-user": u.user_id }; } }));
      }, ui.fail);
      // the weekly chart: the WEEKS weeks (Monday to Sunday) up to the one holding `to`
      var last = ui.mondayOf(to.value), weeks = [];
      for (var i = WEEKS - 1; i >= 0; i--) weeks.push({ from: ui.addDays(last, -7 * i), to: ui.addDays(last, -7 * i + 6) });
      Promise.all(weeks.map(function (w) { return api.get("/api/v1/attendance/summary", { from: w.from, to: w.to }); })).then(function (all) {
        all.forEach(function (sum, i) {
          weeks[i].late = totals(sum.users, "late_minutes");
          weeks[i].lateDays = totals(sum.users, "late_count");
          weeks[i].overtime = totals(sum.users, "overtime_minutes");
        });
        ui.clear(chartBox).appendChild(chart(weeks));
      }, ui.fail);
    }
    load();
  }

  FC.pages = FC.pages || {};
  FC.pages.reports = { titleKey: "console.nav.reports", roles: ["admin", "manager"], render: render };
})();
