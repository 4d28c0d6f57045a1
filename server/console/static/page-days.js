/* faceclock console: Work days — one person's days with their punches (GET /api/v1/attendance/days with
 * include_punches, and /attendance/punches for the voided ones): add a punch, correct one's time or kind, void one,
 * each with a reason, and the audit trail of each punch (GET /attendance/punches/{id}/audit). Times are entered and
 * shown in the day's zone (the shift's). Also "My attendance" (GET /attendance/me) for every signed-in person. */
(function () {
  "use strict";

  var FC = window.FC, api = FC.api, ui = FC.ui, h = ui.h, T = ui.T, i18n = FC.i18n;
  var DEFAULT_DAYS = 14;

  function kindText(k) { return T(k === "out" ? "console.kind.out" : "console.kind.in"); }
  function statusText(s) { var k = "console.status." + s; return i18n.has(k) ? T(k) : s; }
  var STATUS_KIND = { present: "ok", late: "warn", absent: "bad", incomplete: "bad", off_day: "muted" };

  function punchLine(p, zone, actions) {
    var voided = !!p.voided_at;
    return h("li", { class: "punch" + (voided ? " voided" : ""), "data-punch": p.id, "data-kind": p.kind },
      h(voided ? "s" : "span", { class: "punch-time", text: i18n.time(p.at, zone) }), " ",
      h("span", { text: kindText(p.kind) }), " ",
      p.status && !voided ? ui.badge(T("kiosk.status." + p.status), p.status === "late" || p.status === "early_leave" ? "warn" : "plain") : null, " ",
      h("span", { class: "muted", text: T(p.source === "manual" ? "console.days.manual" : "console.days.kiosk") }),
      p.reason ? h("span", { class: "muted", text: " — " + p.reason }) : null,
      voided ? h("span", { class: "muted", text: " — " + T("console.days.voided", { reason: p.void_reason || "" }) }) : null,
      actions ? h("span", { class: "punch-actions" }, actions) : null,
      h("div", { class: "history", id: "history-" + p.id, hidden: true }));
  }

  function historyOf(p, zone, box) {
    if (!box.hidden) { box.hidden = true; return; }
    box.hidden = false;
    ui.clear(box).appendChild(h("p", { class: "muted", text: T("console.loading") }));
    api.get("/api/v1/attendance/punches/" + p.id + "/audit").then(function (entries) {
      ui.clear(box);
      var first = entries[0], original = first ? (first.before || first.after || {}).at || p.at : p.at;
      var lines = [h("li", { text: T("console.days.recorded", { time: i18n.dateTime(original, zone), how: T(p.source === "manual" ? "console.days.manual" : "console.days.kiosk") }) })];
      entries.forEach(function (e) {
        var what = T("console.audit." + e.action.replace("punch.", ""));
        var change = "";
        if (e.before && e.after && e.before.at !== e.after.at) change = i18n.dateTime(e.before.at, zone) + " → " + i18n.dateTime(e.after.at, zone);
        if (e.before && e.after && e.before.kind !== e.after.kind) change += (change ? ", " : "") + kindText(e.before.kind) + " → " + kindText(e.after.kind);
        lines.push(h("li", { "data-action": e.action }, T("console.days.auditLine", { when: i18n.dateTime(e.at), who: e.actor_name || "—", what: what }),
          change ? " (" + change + ")" : "", e.reason ? h("q", { text: e.reason }) : null));
      });
      box.appendChild(h("ol", { class: "audit" }, lines));
    }, function (e) { ui.clear(box).appendChild(h("p", { class: "error", text: ui.errorText(e) })); });
  }

  function timeFields(dayIso, timeValue, zone) {
    var d = ui.input({ type: "date", required: true, value: dayIso, id: ui.uid("pd") });
    var t = ui.input({ type: "time", required: true, value: timeValue, id: ui.uid("pt") });
    return { rows: [ui.field("console.days.date", d), ui.field("console.days.timeIn", t)], zone: zone,
             value: function () { return ui.zonedIso(d.value, t.value, zone); },
             label: h("p", { class: "muted", text: T("console.days.zoneNote", { zone: zone }) }) };
  }
  function kindSelect(value, auto) {
    var opts = auto ? [["", T("console.days.kindAuto")]] : [];
    return ui.select(opts.concat([["in", T("console.kind.in")], ["out", T("console.kind.out")]]), value || "", { id: ui.uid("pk") });
  }

  function addPunch(user, zone, dayIso, reload) {
    var tf = timeFields(dayIso, "09:00", zone), kind = kindSelect("", true);
    ui.ask("console.days.add", { fields: [tf.label].concat(tf.rows, [ui.field("console.days.kind", kind)]), okKey: "console.days.add",
      run: function (reason) {
        return api.post("/api/v1/attendance/punches", { user_id: user.id, at: tf.value(), kind: kind.value || null, reason: reason });
      } }).then(function (done) { if (done) { ui.notify(T("console.days.added"), "ok"); reload(); } });
  }
  function correct(p, zone, reload) {
    var wall = ui.wallOf(p.at, zone), tf = timeFields(wall[0], wall[1], zone), kind = kindSelect(p.kind, false);
    ui.ask("console.days.correct", { fields: [tf.label].concat(tf.rows, [ui.field("console.days.kind", kind)]), okKey: "console.days.correct",
      run: function (reason) {
        var body = { reason: reason }, at = tf.value();
        if (Date.parse(at) !== Date.parse(p.at)) body.at = at;
        if (kind.value !== p.kind) body.kind = kind.value;
        if (!body.at && !body.kind) body.at = at;  // nothing changed: the API says so in plain words
        return api.patch("/api/v1/attendance/punches/" + p.id, body);
      } }).then(function (done) { if (done) { ui.notify(T("console.days.corrected"), "ok"); reload(); } });
  }
  function voidPunch(p, zone, reload) {
    ui.ask("console.days.void", { text: T("console.days.void.text", { time: i18n.dateTime(p.at, zone), kind: kindText(p.kind) }), okKey: "console.days.void",
      run: function (reason) { return api.del("/api/v1/attendance/punches/" + p.id, { reason: reason }); } })
      .then(function (done) { if (done) { ui.notify(T("console.days.voidedDone"), "ok"); reload(); } });
  }

  function dayCard(day, punches, editable, reload) {
    var zone = day.timezone;
    var summary = h("p", { class: "day-facts" }, ui.badge(statusText(day.status), STATUS_KIND[day.status] || "plain"), " ",
      day.shift_name ? day.shift_name + " · " : "",
      T("console.days.worked", { t: ui.minutes(day.worked_minutes) }),
      day.late_minutes ? " · " + T("console.days.lateMin", { t: ui.minutes(day.late_minutes) }) : "",
      day.overtime_minutes ? " · " + T("console.days.overtimeMin", { t: ui.minutes(day.overtime_minutes) }) : "",
      day.early_leave_minutes ? " · " + T("console.days.earlyMin", { t: ui.minutes(day.early_leave_minutes) }) : "");
    var items = punches.map(function (p) {
      var acts = editable ? [
        p.voided_at ? null : ui.button("console.days.correct", function () { correct(p, zone, reload); }, "small", { "aria-label": T("console.days.correctAt", { time: i18n.time(p.at, zone) }) }),
        p.voided_at ? null : ui.button("console.days.void", function () { voidPunch(p, zone, reload); }, "small danger", { "aria-label": T("console.days.voidAt", { time: i18n.time(p.at, zone) }) }),
        ui.button("console.days.history", function (ev) { historyOf(p, zone, ev.target.closest("li").querySelector(".history")); }, "small link",
                  { "aria-label": T("console.days.historyAt", { time: i18n.time(p.at, zone) }) })] : null;
      return punchLine(p, zone, acts);
    });
    return h("article", { class: "day card", "data-date": day.work_date, "data-status": day.status },
      h("h2", { text: i18n.day(day.work_date, { weekday: "long", year: "numeric", month: "long", day: "numeric" }) }), summary,
      items.length ? h("ul", { class: "punches" }, items) : h("p", { class: "muted", text: T("console.days.noPunches") }));
  }

  // days (with non-voided punches) + every punch of the range (voided ones included), merged per work day
  function renderDays(box, days, allPunches, editable, reload) {
    ui.clear(box);
    var byDay = {};
    allPunches.forEach(function (p) { (byDay[p.work_date] = byDay[p.work_date] || []).push(p); });
    if (!days.length) box.appendChild(h("p", { class: "muted", text: T("console.days.none") }));
    days.slice().reverse().forEach(function (d) {
      var list = editable ? (byDay[d.work_date] || []) : (d.punches || []);
      box.appendChild(dayCard(d, list.slice().sort(function (a, b) { return Date.parse(a.at) - Date.parse(b.at); }), editable, reload));
    });
  }

  function render(view, params, me) {
    var who = ui.input({ type: "search", id: "days-user", list: "days-users", autocomplete: "off", value: "" });
    var options = h("datalist", { id: "days-users" });
    var from = ui.input({ type: "date", id: "days-from", value: params.from || ui.addDays(ui.today(), -DEFAULT_DAYS + 1) });
    var to = ui.input({ type: "date", id: "days-to", value: params.to || ui.today() });
    var box = h("div", { id: "days-list", "aria-live": "polite" });
    var user = null, found = {};
    var addBtn = ui.button("console.days.add", function () {
      var zone = (box.querySelector(".day") && lastZone) || user.timezone || ui.browserZone();
      addPunch(user, zone, to.value, load);
    }, "primary", { id: "days-add", disabled: true });
    var lastZone = null;
    view.appendChild(h("form", { class: "toolbar", onsubmit: function (ev) { ev.preventDefault(); pick(); } },
      ui.field("console.days.person", who, "console.days.person.hint"), options,
      ui.field("console.col.from", from), ui.field("console.col.to", to),
      h("button", { type: "submit", text: T("console.days.show") }), addBtn));
    view.appendChild(box);

    who.addEventListener("input", function () {
      api.get("/api/v1/users", { search: who.value.trim(), limit: 20 }).then(function (page) {
        ui.clear(options);
        page.items.forEach(function (u) {
          var label = u.full_name + " (" + u.employee_code + ")";
          found[label] = u;
          options.appendChild(h("option", { value: label }));
        });
      }, function () {});
    });
    function pick() {
      var u = found[who.value];
      if (u) { FC.go("days", null, { user: u.id, from: from.value, to: to.value }); return; }
      if (user) { FC.go("days", null, { user: user.id, from: from.value, to: to.value }); }
    }
    function load() {
      var q = { user_id: user.id, from: from.value, to: to.value };
      return Promise.all([api.get("/api/v1/attendance/days", Object.assign({ include_punches: "true" }, q)),
                          api.all("/api/v1/attendance/punches", q)]).then(function (r) {
        lastZone = r[0].items.length ? r[0].items[r[0].items.length - 1].timezone : null;
        renderDays(box, r[0].items, r[1], true, load);
      }, ui.fail);
    }
    if (params.user) {
      api.get("/api/v1/users/" + params.user).then(function (u) {
        user = u;
        who.value = u.full_name + " (" + u.employee_code + ")";
        found[who.value] = u;
        view.querySelector("h1").textContent = T("console.days.titleOf", { name: u.full_name });
        addBtn.disabled = false;
        load();
      }, ui.fail);
    } else box.appendChild(h("p", { class: "muted", text: T("console.days.pick") }));
  }

  function renderMine(view) {
    var from = ui.input({ type: "date", id: "mine-from", value: ui.addDays(ui.today(), -30) });
    var to = ui.input({ type: "date", id: "mine-to", value: ui.today() });
    var box = h("div", { id: "mine-list" });
    function load() {
      api.get("/api/v1/attendance/me", { from: from.value, to: to.value }).then(function (page) {
        renderDays(box, page.items, [], false, load);
      }, ui.fail);
    }
    view.appendChild(h("form", { class: "toolbar", onsubmit: function (ev) { ev.preventDefault(); load(); } },
      ui.field("console.col.from", from), ui.field("console.col.to", to), h("button", { type: "submit", text: T("console.days.show") })));
    view.appendChild(box);
    load();
  }

  FC.pages = FC.pages || {};
  FC.pages.days = { titleKey: "console.nav.days", roles: ["admin", "manager"], render: render };
  FC.pages.mine = { titleKey: "console.nav.mine", roles: ["manager", "employee"], render: renderMine };
})();
