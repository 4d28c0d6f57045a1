/* faceclock console: Today — who is in, late, absent or on leave, per site (GET /api/v1/attendance/today), refreshed
 * every REFRESH_S seconds while the page is open (and at once when the tab comes back into view). */
(function () {
  "use strict";

  var FC = window.FC, api = FC.api, ui = FC.ui, h = ui.h, T = ui.T, i18n = FC.i18n;
  var REFRESH_S = 15;
  // the order people are listed in; any other state (the calendar's leave, holiday) comes after "absent"
  var ORDER = ["in", "missing", "absent", "on_leave", "holiday", "remote", "present", "left", "expected", "off"];
  var LEAVE = ["on_leave", "holiday"];
  var STATE_KIND = { in: "ok", missing: "warn", absent: "bad", left: "plain", expected: "plain", off: "muted",
                     on_leave: "info", holiday: "info", remote: "info", present: "ok" };

  function rank(p) {
    var i = ORDER.indexOf(p.state);
    return i < 0 ? ORDER.indexOf("absent") + 0.5 : i;
  }
  function stateText(p) {
    var key = "console.today.state." + p.state;
    var text = i18n.has(key) ? T(key) : p.state;
    if (p.state === "holiday" && p.holiday) text += ": " + p.holiday;
    if (p.leave_kind) text += " (" + T("console.leave.kind." + p.leave_kind) + (p.leave_half ? ", " + T("console.leave.half." + p.leave_half) : "") + ")";
    return text;
  }
  function onLeave(p) { return LEAVE.indexOf(p.state) >= 0; }

  function counters(people) {
    var n = function (f) { return people.filter(f).length; };
    var items = [
      ["in", n(function (p) { return p.state === "in"; }), "ok"],
      ["late", n(function (p) { return p.late; }), "warn"],
      ["absent", n(function (p) { return p.state === "absent" || p.state === "missing"; }), "bad"],
      ["leave", n(onLeave), "info"],
      ["expected", n(function (p) { return p.state === "expected"; }), "plain"],
      ["left", n(function (p) { return p.state === "left"; }), "plain"]
    ];
    return h("ul", { class: "counters" }, items.map(function (c) {
      return h("li", { class: "counter counter-" + c[2], "data-count": c[0] },
        h("span", { class: "count", text: i18n.number(c[1]) }), h("span", { text: T("console.today.count." + c[0]) }));
    }));
  }

  function personRow(p) {
    var shift = p.shift_name ? p.shift_name + (p.shift_start ? " " + i18n.time(p.shift_start, p.timezone) + "–" +
                                               i18n.time(p.shift_end, p.timezone) : "") : "";
    var last = p.last_punch ? T(p.last_punch.kind === "in" ? "console.kind.in" : "console.kind.out") + " " +
                              i18n.time(p.last_punch.at, p.timezone) : "";
    return [
      FC.link(p.full_name, "people", p.user_id),
      h("span", null, ui.badge(stateText(p), STATE_KIND[p.state] || "info"),
        p.late ? ui.badge(p.late_minutes ? T("console.today.lateBy", { m: p.late_minutes }) : T("console.today.late"), "warn") : null),
      shift, p.first_in ? i18n.time(p.first_in, p.timezone) : "", last
    ];
  }

  function siteSection(site, people) {
    people = people.slice().sort(function (a, b) { return rank(a) - rank(b) || a.full_name.localeCompare(b.full_name); });
    var cols = ["console.col.name", "console.col.state", "console.col.shift", "console.col.firstIn", "console.col.lastPunch"];
    var title = site || T("console.today.noSite");
    return h("section", { class: "site", "data-site": site, "aria-label": title },
      h("h2", { text: title }), counters(people),
      ui.table(cols.map(function (key, i) {
        return { key: key, head: i === 0, cell: function (p) { return personRow(p)[i]; } };
      }), people, { caption: T("console.today.caption", { site: title }), captionHidden: true,
                    rowAttrs: function (p) { return { "data-user": p.user_id, "data-state": p.state }; } }));
  }

  function render(view, params, me) {
    var siteSel = ui.select([["", T("console.today.allSites")]], params.site || "", { id: "today-site" });
    var updated = h("span", { class: "muted", id: "today-updated" });
    var body = h("div", { id: "today-body", "aria-live": "polite", "aria-busy": "true" });
    var controls = h("div", { class: "toolbar" },
      me.role === "admin" ? ui.field("console.today.site", siteSel) : h("p", { text: T("console.today.yourSite", { site: me.site || "" }) }),
      ui.button("console.refresh", load), updated);
    view.appendChild(controls);
    view.appendChild(body);
    var sites = null, timer = null;

    function load() {
      body.setAttribute("aria-busy", "true");
      return api.get("/api/v1/attendance/today").then(function (data) {
        if (sites === null) {
          sites = Object.keys(data.counts).sort();
          sites.forEach(function (s) { siteSel.appendChild(h("option", { value: s, selected: s === params.site, text: s || T("console.today.noSite") })); });
        }
        var want = siteSel.value, groups = {};
        data.people.forEach(function (p) {
          var s = p.site || "";
          if (want && s !== want) return;
          (groups[s] = groups[s] || []).push(p);
        });
        ui.clear(body);
        var names = Object.keys(groups).sort(function (a, b) { return (a === "") - (b === "") || a.localeCompare(b); });
        if (!names.length) body.appendChild(h("p", { class: "muted", text: T("console.today.nobody") }));
        names.forEach(function (s) { body.appendChild(siteSection(s, groups[s])); });
        updated.textContent = T("console.today.updated", { time: i18n.timeSeconds(data.at) });
        document.body.dataset.todayLoaded = String(Date.now());
      }, function (e) { ui.notify(ui.errorText(e), "error"); }).finally(function () { body.setAttribute("aria-busy", "false"); });
    }
    siteSel.addEventListener("change", load);
    function visible() { if (!document.hidden) load(); }
    document.addEventListener("visibilitychange", visible);
    load();
    timer = setInterval(function () { if (!document.hidden) load(); }, REFRESH_S * 1000);
    return function () { clearInterval(timer); document.removeEventListener("visibilitychange", visible); };
  }

  FC.pages = FC.pages || {};
  FC.pages.today = { titleKey: "console.nav.today", roles: ["admin", "manager"], render: render };
})();
