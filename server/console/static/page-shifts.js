/* faceclock console: Shifts — list (archived ones on request), create, edit, archive (admin; managers read them and
 * assign them on a person's page: PUT /api/v1/users/{id}/shift). */
(function () {
  "use strict";

  var FC = window.FC, api = FC.api, ui = FC.ui, h = ui.h, T = ui.T;
  var DAYS = [0, 1, 2, 3, 4, 5, 6];

  function weekdayName(d) { return T("console.weekday." + d); }
  function hhmm(t) { return String(t || "").slice(0, 5); }

  function shiftDialog(shift, reload) {
    var f = {
      name: ui.input({ required: true, maxlength: 100, value: shift ? shift.name : "", id: "shift-name" }),
      zone: ui.input({ required: true, maxlength: 64, value: shift ? shift.timezone : ui.browserZone(), id: "shift-zone" }),
      start: ui.input({ type: "time", required: true, value: shift ? hhmm(shift.start_time) : "09:00", id: "shift-start" }),
      end: ui.input({ type: "time", required: true, value: shift ? hhmm(shift.end_time) : "17:00", id: "shift-end" }),
      graceIn: ui.input({ type: "number", min: 0, max: 240, value: shift ? shift.grace_in_minutes : 5, id: "shift-grace-in" }),
      graceOut: ui.input({ type: "number", min: 0, max: 240, value: shift ? shift.grace_out_minutes : 5, id: "shift-grace-out" }),
      brk: ui.input({ type: "number", min: 0, max: 720, value: shift ? shift.break_minutes : 0, id: "shift-break" })
    };
    var on = shift ? shift.weekdays : [0, 1, 2, 3, 4];
    var boxes = DAYS.map(function (d) { return h("input", { type: "checkbox", value: d, checked: on.indexOf(d) >= 0, id: "shift-day-" + d }); });
    var days = h("fieldset", { class: "days" }, h("legend", { text: T("console.shifts.weekdays") }),
      DAYS.map(function (d) { return h("label", null, boxes[d], " " + weekdayName(d)); }));
    var rows = [ui.field("console.shifts.name", f.name), ui.field("console.shifts.zone", f.zone, "console.person.timezone.hint"),
                ui.field("console.shifts.start", f.start), ui.field("console.shifts.end", f.end, "console.shifts.end.hint"), days,
                ui.field("console.shifts.graceIn", f.graceIn), ui.field("console.shifts.graceOut", f.graceOut),
                ui.field("console.shifts.break", f.brk)];
    ui.formDialog(shift ? "console.shifts.edit" : "console.shifts.new", rows, shift ? "console.save" : "console.create", function () {
      var body = { name: f.name.value.trim(), timezone: f.zone.value.trim(), start_time: f.start.value, end_time: f.end.value,
                   weekdays: boxes.filter(function (b) { return b.checked; }).map(function (b) { return +b.value; }),
                   grace_in_minutes: +f.graceIn.value, grace_out_minutes: +f.graceOut.value, break_minutes: +f.brk.value };
      var done = shift ? api.patch("/api/v1/shifts/" + shift.id, body) : api.post("/api/v1/shifts", body);
      return done.then(function () { ui.notify(T("console.saved"), "ok"); reload(); });
    });
  }

  function render(view, params, me) {
    var admin = me.role === "admin";
    var archived = h("input", { type: "checkbox", id: "shifts-archived" });
    var list = h("div", { id: "shifts-list" });
    function load() {
      return api.get("/api/v1/shifts", { include_inactive: archived.checked ? "true" : "" }).then(function (rows) {
        ui.clear(list).appendChild(ui.table([
          { key: "console.col.name", head: true, cell: function (s) { return s.name; } },
          { key: "console.col.hours", cell: function (s) { return hhmm(s.start_time) + "–" + hhmm(s.end_time) + (s.overnight ? " " + T("console.shifts.overnight") : ""); } },
          { key: "console.col.zone", cell: function (s) { return s.timezone; } },
          { key: "console.col.days", cell: function (s) { return s.weekdays.map(weekdayName).join(", "); } },
          { key: "console.col.grace", cell: function (s) { return T("console.shifts.graceValue", { in: s.grace_in_minutes, out: s.grace_out_minutes }); } },
          { key: "console.col.break", cell: function (s) { return ui.minutes(s.break_minutes); } },
          { key: "console.col.status", cell: function (s) { return s.is_active ? T("console.shifts.active") : ui.badge(T("console.shifts.archived"), "muted"); } },
          { key: "console.col.actions", cell: function (s) {
            if (!admin || !s.is_active) return "";
            return h("span", null,
              ui.button("console.shifts.edit", function () { shiftDialog(s, load); }, "", { "aria-label": T("console.shifts.editNamed", { name: s.name }) }), " ",
              ui.button("console.shifts.archive", function () {
                ui.ask("console.shifts.archive", { text: T("console.shifts.archive.text", { name: s.name }), noReason: true, okKey: "console.shifts.archive",
                                                   run: function () { return api.del("/api/v1/shifts/" + s.id); } })
                  .then(function (done) { if (done) load(); });
              }, "danger", { "aria-label": T("console.shifts.archiveNamed", { name: s.name }) }));
          } }
        ], rows, { emptyKey: "console.shifts.none", caption: T("console.nav.shifts"), captionHidden: true }));
      }, ui.fail);
    }
    archived.addEventListener("change", load);
    view.appendChild(h("p", { class: "muted", text: T("console.shifts.intro") }));
    view.appendChild(h("div", { class: "toolbar" },
      admin ? ui.button("console.shifts.new", function () { shiftDialog(null, load); }, "primary", { id: "shift-new" }) : null,
      h("label", null, archived, " " + T("console.shifts.showArchived"))));
    view.appendChild(list);
    load();
  }

  FC.pages = FC.pages || {};
  FC.pages.shifts = { titleKey: "console.nav.shifts", roles: ["admin", "manager"], render: render };
})();
