/* faceclock console: Calendar — holidays (GET/POST/DELETE /api/v1/holidays, .ics import), leave (GET/POST
 * /api/v1/leaves, cancel with DELETE) and employees' requests (GET /api/v1/requests, approve / reject). A day's
 * mark is set on the Work days page. A manager's lists are their site's (the API decides). */
(function () {
  "use strict";

  var FC = window.FC, api = FC.api, ui = FC.ui, h = ui.h, T = ui.T, i18n = FC.i18n;
  var TABS = ["holidays", "leave", "requests"];
  var KINDS = ["vacation", "sick", "personal", "unpaid", "other"];

  function year() { return ui.today().slice(0, 4); }
  function names(ids) {  // user id → "Name (code)" for lists that only carry ids
    var out = {};
    return Promise.all(ids.filter(function (v, i, a) { return a.indexOf(v) === i; }).map(function (id) {
      return api.get("/api/v1/users/" + id).then(function (u) { out[id] = u.full_name + " (" + u.employee_code + ")"; },
                                                 function () { out[id] = "#" + id; });
    })).then(function () { return out; });
  }
  function kindText(kind, half) {
    return T("console.leave.kind." + kind) + (half ? " · " + T("console.leave.half." + half) : "");
  }

  // ------------------------------------------------------------------ holidays
  function holidays(box, me) {
    var from = ui.input({ type: "date", id: "hol-from", value: year() + "-01-01" });
    var to = ui.input({ type: "date", id: "hol-to", value: year() + "-12-31" });
    var list = h("div", { id: "holidays-list" });
    function load() {
      return api.get("/api/v1/holidays", { from: from.value, to: to.value }).then(function (rows) {
        ui.clear(list).appendChild(ui.table([
          { key: "console.days.date", head: true, cell: function (x) { return i18n.day(x.date, { weekday: "short" }); } },
          { key: "console.col.name", cell: function (x) { return x.name; } },
          { key: "console.col.site", cell: function (x) { return x.site || T("console.calendar.wholeCompany"); } },
          { key: "console.col.actions", cell: function (x) {
            return ui.button("console.calendar.delete", function () {
              ui.ask("console.calendar.deleteHoliday", { text: T("console.calendar.deleteHoliday.text", { name: x.name, date: i18n.day(x.date) }),
                okKey: "console.calendar.delete",
                run: function (reason) { return api.call("DELETE", "/api/v1/holidays/" + x.id, { query: { reason: reason } }); } })
                .then(function (done) { if (done) load(); });
            }, "small danger", { "aria-label": T("console.calendar.deleteNamed", { name: x.name }) });
          } }
        ], rows, { emptyKey: "console.calendar.noHolidays", caption: T("console.calendar.holidays"), captionHidden: true }));
      }, ui.fail);
    }
    function add() {
      var date = ui.input({ type: "date", required: true, id: "hol-date" });
      var name = ui.input({ required: true, maxlength: 200, id: "hol-name" });
      var site = ui.input({ maxlength: 100, id: "hol-site", value: me.role === "admin" ? "" : me.site, disabled: me.role !== "admin" });
      ui.formDialog("console.calendar.addHoliday", [ui.field("console.days.date", date), ui.field("console.col.name", name),
        ui.field("console.col.site", site, "console.calendar.site.hint")], "console.create", function () {
        return api.post("/api/v1/holidays", { date: date.value, name: name.value.trim(), site: site.value.trim() || null })
          .then(function () { ui.notify(T("console.saved"), "ok"); load(); });
      });
    }
    function importIcs() {
      var file = h("input", { type: "file", accept: ".ics,text/calendar", required: true, id: "hol-file" });
      var site = ui.input({ maxlength: 100, id: "hol-import-site", value: me.role === "admin" ? "" : me.site, disabled: me.role !== "admin" });
      ui.formDialog("console.calendar.import", [ui.field("console.calendar.icsFile", file, "console.calendar.icsFile.hint"),
        ui.field("console.col.site", site, "console.calendar.site.hint")], "console.calendar.import", function () {
        var fd = new FormData();
        fd.append("file", file.files[0]);
        if (site.value.trim()) fd.append("site", site.value.trim());
        fd.append("from", from.value);
        fd.append("to", to.value);
        return api.postForm("/api/v1/holidays/import", fd).then(function (r) {
          ui.notify(T("console.calendar.imported", { created: r.created.length, skipped: r.skipped.length }), "ok");
          load();
        });
      });
    }
    box.appendChild(h("form", { class: "toolbar", onsubmit: function (ev) { ev.preventDefault(); load(); } },
      ui.field("console.col.from", from), ui.field("console.col.to", to), h("button", { type: "submit", text: T("console.days.show") }),
      ui.button("console.calendar.addHoliday", add, "primary", { id: "holiday-new" }),
      ui.button("console.calendar.import", importIcs, "", { id: "holiday-import" })));
    box.appendChild(list);
    load();
  }

  // ------------------------------------------------------------------ leave
  function leave(box) {
    var who = ui.personPicker("leave-user");
    var from = ui.input({ type: "date", id: "leave-from", value: ui.addDays(ui.today(), -30) });
    var to = ui.input({ type: "date", id: "leave-to", value: ui.addDays(ui.today(), 90) });
    var cancelled = h("input", { type: "checkbox", id: "leave-cancelled" });
    var list = h("div", { id: "leave-list" });
    function load() {
      var u = who.user();
      return api.get("/api/v1/leaves", { user_id: u ? u.id : null, from: from.value, to: to.value, limit: 500,
                                         include_cancelled: cancelled.checked ? "true" : "" }).then(function (page) {
        return names(page.items.map(function (x) { return x.user_id; })).then(function (who) {
          ui.clear(list).appendChild(ui.table([
            { key: "console.days.person", head: true, cell: function (x) { return FC.link(who[x.user_id], "days", null, { user: x.user_id, from: x.from, to: x.to }); } },
            { key: "console.col.from", cell: function (x) { return i18n.day(x.from); } },
            { key: "console.col.to", cell: function (x) { return i18n.day(x.to); } },
            { key: "console.calendar.kind", cell: function (x) { return kindText(x.kind, x.half); } },
            { key: "console.reason", cell: function (x) { return x.reason; } },
            { key: "console.col.status", cell: function (x) {
              return x.status === "cancelled" ? ui.badge(T("console.calendar.cancelled", { reason: x.cancel_reason || "" }), "muted") : ui.badge(T("console.calendar.approved"), "ok");
            } },
            { key: "console.col.actions", cell: function (x) {
              return x.status === "cancelled" ? "" : ui.button("console.calendar.cancelLeave", function () {
                ui.ask("console.calendar.cancelLeave", { okKey: "console.calendar.cancelLeave",
                  run: function (reason) { return api.del("/api/v1/leaves/" + x.id, { reason: reason }); } })
                  .then(function (done) { if (done) load(); });
              }, "small danger");
            } }
          ], page.items, { emptyKey: "console.calendar.noLeave", caption: T("console.calendar.leave"), captionHidden: true,
                           rowAttrs: function (x) { return { "data-leave": x.id }; } }));
        });
      }, ui.fail);
    }
    function add() {
      var person = ui.personPicker("leave-new-user");
      var first = ui.input({ type: "date", required: true, id: "leave-new-from", value: ui.today() });
      var last = ui.input({ type: "date", required: true, id: "leave-new-to", value: ui.today() });
      var kind = ui.select(KINDS.map(function (k) { return [k, T("console.leave.kind." + k)]; }), "vacation", { id: "leave-new-kind" });
      var half = ui.select([["", T("console.leave.whole")], ["am", T("console.leave.half.am")], ["pm", T("console.leave.half.pm")]], "", { id: "leave-new-half" });
      var reason = h("textarea", { required: true, maxlength: 1000, rows: 2, id: "leave-new-reason" });
      ui.formDialog("console.calendar.addLeave", [ui.field("console.days.person", person.input, "console.days.person.hint"), person.el,
        ui.field("console.col.from", first), ui.field("console.col.to", last), ui.field("console.calendar.kind", kind),
        ui.field("console.calendar.half", half), ui.field("console.reason", reason)], "console.create", function () {
        var u = person.user();
        if (!u) return Promise.reject(new api.ApiError(422, { error: { code: "validation_error", field: "user_id" } }));
        return api.post("/api/v1/leaves", { user_id: u.id, from: first.value, to: half.value ? first.value : last.value,
                                             kind: kind.value, half: half.value || null, reason: reason.value.trim() })
          .then(function () { ui.notify(T("console.saved"), "ok"); load(); });
      });
    }
    box.appendChild(h("form", { class: "toolbar", onsubmit: function (ev) { ev.preventDefault(); load(); } },
      ui.field("console.days.person", who.input, "console.calendar.anyone"), who.el, ui.field("console.col.from", from),
      ui.field("console.col.to", to), h("label", null, cancelled, " " + T("console.calendar.showCancelled")),
      h("button", { type: "submit", text: T("console.days.show") }),
      ui.button("console.calendar.addLeave", add, "primary", { id: "leave-new" })));
    box.appendChild(list);
    load();
  }

  // ------------------------------------------------------------------ requests
  function changeText(r) {
    var c = r.change || {};
    if (r.type === "missed_punch") return T("console.request.missed", { time: i18n.dateTime(c.at), kind: c.kind ? T("console.kind." + c.kind) : "" });
    if (r.type === "correction") return T("console.request.correction", { id: c.punch_id, time: c.at ? i18n.dateTime(c.at) : "", kind: c.kind ? T("console.kind." + c.kind) : "" });
    if (r.type === "leave") return T("console.request.leave", { from: i18n.day(c.from), to: i18n.day(c.to), kind: kindText(c.kind, c.half) });
    if (r.type === "mark") return T("console.request.mark", { date: i18n.day(c.date), status: T("console.mark." + c.status) });
    return r.type;
  }
  function requests(box, me) {
    var status = ui.select(["pending", "approved", "rejected", "cancelled", ""].map(function (s) {
      return [s, T(s ? "console.request.status." + s : "console.people.everyone")];
    }), "pending", { id: "requests-status" });
    var list = h("div", { id: "requests-list" });
    function decide(r, approve) {
      ui.ask(approve ? "console.request.approve" : "console.request.reject", { text: r.full_name + ": " + changeText(r),
        okKey: approve ? "console.request.approve" : "console.request.reject",
        reasonKey: approve ? "console.request.note" : "console.reason", reasonOptional: approve,
        run: function (reason) {
          return api.post("/api/v1/requests/" + r.id + (approve ? "/approve" : "/reject"), reason ? { reason: reason } : {});
        } }).then(function (done) { if (done) { ui.notify(T("console.saved"), "ok"); load(); } });
    }
    function load() {
      return api.get("/api/v1/requests", { status: status.value, limit: 500 }).then(function (page) {
        ui.clear(list).appendChild(ui.table([
          { key: "console.days.person", head: true, cell: function (r) { return FC.link(r.full_name + " (" + r.employee_code + ")", "days", null, { user: r.user_id }); } },
          { key: "console.request.what", cell: function (r) { return changeText(r); } },
          ].concat(ui.requestColumns(), [
          { key: "console.col.actions", cell: function (r) {
            if (r.status !== "pending" || r.user_id === me.id) return "";
            return h("span", { class: "punch-actions" },
              ui.button("console.request.approve", function () { decide(r, true); }, "small primary"),
              ui.button("console.request.reject", function () { decide(r, false); }, "small danger"));
          } }
        ]), page.items, { emptyKey: "console.request.none", caption: T("console.calendar.requests"), captionHidden: true,
                         rowAttrs: function (r) { return { "data-request": r.id, "data-status": r.status }; } }));
      }, ui.fail);
    }
    status.addEventListener("change", load);
    box.appendChild(h("div", { class: "toolbar" }, ui.field("console.col.status", status)));
    box.appendChild(list);
    load();
  }

  function render(view, params, me) {
    var tab = TABS.indexOf(params.tab) >= 0 ? params.tab : "requests";
    view.appendChild(h("nav", { class: "tabs", "aria-label": T("console.nav.calendar") }, TABS.map(function (t) {
      return h("a", { href: "#/calendar?tab=" + t, "aria-current": t === tab ? "page" : null, "data-tab": t, text: T("console.calendar." + t) });
    })));
    var box = h("section", { id: "calendar-" + tab, "aria-label": T("console.calendar." + tab) });
    view.appendChild(box);
    ({ holidays: holidays, leave: leave, requests: requests })[tab](box, me);
  }

  FC.pages = FC.pages || {};
  FC.pages.calendar = { titleKey: "console.nav.calendar", roles: ["admin", "manager"], render: render };
})();
