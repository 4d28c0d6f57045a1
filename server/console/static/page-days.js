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

  var MARKS = ["present", "absent", "on_leave", "remote"];
  function markDay(user, day, dayIso, reload) {
    var date = ui.input({ type: "date", required: true, value: dayIso, id: ui.uid("md"), disabled: !!day });
    var status = ui.select(MARKS.map(function (m) { return [m, T("console.mark." + m)]; }), day && day.mark ? day.mark.status : "present",
                           { id: ui.uid("ms") });
    ui.ask("console.days.markDay", { text: T("console.days.markDay.text"),
      fields: [ui.field("console.days.date", date), ui.field("console.days.markAs", status)], okKey: "console.days.markDay",
      run: function (reason) {
        return api.put("/api/v1/attendance/days/" + user.id + "/" + date.value, { status: status.value, reason: reason });
      } }).then(function (done) { if (done) { ui.notify(T("console.days.marked"), "ok"); reload(); } });
  }
  function unmarkDay(user, day, reload) {
    ui.ask("console.days.unmark", { text: T("console.days.unmark.text"), okKey: "console.days.unmark",
      run: function (reason) { return api.del("/api/v1/attendance/days/" + user.id + "/" + day.work_date, { reason: reason }); } })
      .then(function (done) { if (done) { ui.notify(T("console.days.unmarked"), "ok"); reload(); } });
  }
  function calendarFacts(day) {
    return [
      day.holiday ? ui.badge(T("console.days.holiday", { name: day.holiday }), "info") : null,
      day.leave_kind ? ui.badge(T(day.leave_half ? "console.days.leaveHalf" : "console.days.leave",
                                  { kind: T("console.leave.kind." + day.leave_kind), half: T("console.leave.half." + (day.leave_half || "am")) }), "info") : null,
      day.mark ? ui.badge(T("console.days.markedAs", { status: T("console.mark." + day.mark.status) }), "warn") : null,
      day.mark && day.mark.reason ? [" ", h("q", { class: "muted", text: day.mark.reason })] : null
    ];
  }

  function dayCard(day, punches, editable, reload, user) {
    var zone = day.timezone;
    var summary = h("p", { class: "day-facts" }, ui.badge(statusText(day.status), STATUS_KIND[day.status] || "plain"), " ",
      calendarFacts(day), " ",
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
    var dayActions = editable ? h("div", { class: "toolbar" },
      ui.button("console.days.markDay", function () { markDay(user, day, day.work_date, reload); }, "small"),
      day.mark ? ui.button("console.days.unmark", function () { unmarkDay(user, day, reload); }, "small danger") : null) : null;
    return h("article", { class: "day card", "data-date": day.work_date, "data-status": day.status },
      h("h2", { text: i18n.day(day.work_date, { weekday: "long", year: "numeric", month: "long", day: "numeric" }) }), summary, dayActions,
      items.length ? h("ul", { class: "punches" }, items) : h("p", { class: "muted", text: T("console.days.noPunches") }));
  }

  // days (with non-voided punches) + every punch of the range (voided ones included), merged per work day
  function renderDays(box, days, allPunches, editable, reload, user) {
    ui.clear(box);
    var byDay = {};
    allPunches.forEach(function (p) { (byDay[p.work_date] = byDay[p.work_date] || []).push(p); });
    if (!days.length) box.appendChild(h("p", { class: "muted", text: T("console.days.none") }));
    days.slice().reverse().forEach(function (d) {
      var list = editable ? (byDay[d.work_date] || []) : (d.punches || []);
      box.appendChild(dayCard(d, list.slice().sort(function (a, b) { return Date.parse(a.at) - Date.parse(b.at); }), editable, reload, user));
    });
  }

  function render(view, params, me) {
    var who = ui.personPicker("days-user");
    var from = ui.input({ type: "date", id: "days-from", value: params.from || ui.addDays(ui.today(), -DEFAULT_DAYS + 1) });
    var to = ui.input({ type: "date", id: "days-to", value: params.to || ui.today() });
    var box = h("div", { id: "days-list", "aria-live": "polite" });
    var user = null, lastZone = null;
    function zone() { return lastZone || user.timezone || ui.browserZone(); }
    var addBtn = ui.button("console.days.add", function () { addPunch(user, zone(), to.value, load); }, "primary",
                           { id: "days-add", disabled: true });
    var markBtn = ui.button("console.days.markDay", function () { markDay(user, null, to.value, load); }, "",
                            { id: "days-mark", disabled: true });
    view.appendChild(h("form", { class: "toolbar", onsubmit: function (ev) { ev.preventDefault(); pick(); } },
      ui.field("console.days.person", who.input, "console.days.person.hint"), who.el,
      ui.field("console.col.from", from), ui.field("console.col.to", to),
      h("button", { type: "submit", text: T("console.days.show") }), addBtn, markBtn));
    view.appendChild(box);

    function pick() {
      var u = who.user() || user;
      if (u) FC.go("days", null, { user: u.id, from: from.value, to: to.value });
    }
    function load() {
      var q = { user_id: user.id, from: from.value, to: to.value };
      return Promise.all([api.get("/api/v1/attendance/days", Object.assign({ include_punches: "true" }, q)),
                          api.all("/api/v1/attendance/punches", q)]).then(function (r) {
        lastZone = r[0].items.length ? r[0].items[r[0].items.length - 1].timezone : null;
        renderDays(box, r[0].items, r[1], true, load, user);
      }, ui.fail);
    }
    if (params.user) {
      api.get("/api/v1/users/" + params.user).then(function (u) {
        user = u;
        who.set(u);
        view.querySelector("h1").textContent = T("console.days.titleOf", { name: u.full_name });
        addBtn.disabled = false;
        markBtn.disabled = false;
        load();
      }, ui.fail);
    } else box.appendChild(h("p", { class: "muted", text: T("console.days.pick") }));
  }

  // ------------------------------------------------------------------ my attendance, and asking for a change
  var REQUEST_TYPES = ["missed_punch", "leave", "mark"];
  function askForChange(me, reload) {
    var type = ui.select(REQUEST_TYPES.map(function (t) { return [t, T("console.request.type." + t)]; }), "missed_punch", { id: "req-type" });
    var day = ui.input({ type: "date", required: true, value: ui.today(), id: "req-date" });
    var time = ui.input({ type: "time", value: "09:00", id: "req-time" });
    var kind = kindSelect("", true);
    kind.id = "req-kind";
    var last = ui.input({ type: "date", value: ui.today(), id: "req-to" });
    var leaveKind = ui.select(["vacation", "sick", "personal", "unpaid", "other"].map(function (k) { return [k, T("console.leave.kind." + k)]; }), "vacation", { id: "req-leave-kind" });
    var mark = ui.select(MARKS.map(function (m) { return [m, T("console.mark." + m)]; }), "remote", { id: "req-mark" });
    var rows = { missed_punch: [ui.field("console.days.timeIn", time), ui.field("console.days.kind", kind)],
                 leave: [ui.field("console.col.to", last), ui.field("console.calendar.kind", leaveKind)],
                 mark: [ui.field("console.days.markAs", mark)] };
    var extra = h("div", null);
    function show() { ui.clear(extra); ui.append(extra, rows[type.value]); }
    type.addEventListener("change", show);
    show();
    var zone = me.timezone || ui.browserZone();
    ui.ask("console.request.new", { fields: [ui.field("console.request.typeLabel", type), ui.field("console.days.date", day), extra],
      okKey: "console.request.send",
      run: function (reason) {
        var body = { type: type.value, reason: reason };
        if (type.value === "missed_punch") { body.at = ui.zonedIso(day.value, time.value, zone); body.kind = kind.value || null; }
        if (type.value === "leave") { body.from = day.value; body.to = last.value; body.kind = leaveKind.value; }
        if (type.value === "mark") { body.date = day.value; body.status = mark.value; }
        return api.post("/api/v1/requests", body);
      } }).then(function (done) { if (done) { ui.notify(T("console.request.sent"), "ok"); reload(); } });
  }

  function myRequests(box, me) {
    api.get("/api/v1/requests", { user_id: me.id, limit: 50 }).then(function (page) {
      ui.clear(box).appendChild(ui.table([
        { key: "console.request.what", head: true, cell: function (r) { return T("console.request.type." + r.type); } },
        ].concat(ui.requestColumns(), [
        { key: "console.col.actions", cell: function (r) {
          return r.status !== "pending" ? "" : ui.button("console.request.withdraw", function () {
            api.post("/api/v1/requests/" + r.id + "/cancel", {}).then(function () { myRequests(box, me); }, ui.fail);
          }, "small");
        } }
      ]), page.items, { emptyKey: "console.request.none", rowAttrs: function (r) { return { "data-request": r.id, "data-status": r.status }; } }));
    }, ui.fail);
  }

  function renderMine(view, params, me) {
    var from = ui.input({ type: "date", id: "mine-from", value: ui.addDays(ui.today(), -30) });
    var to = ui.input({ type: "date", id: "mine-to", value: ui.today() });
    var box = h("div", { id: "mine-list" }), requestsBox = h("div", { id: "mine-requests" });
    function load() {
      api.get("/api/v1/attendance/me", { from: from.value, to: to.value }).then(function (page) {
        renderDays(box, page.items, [], false, load);
      }, ui.fail);
      myRequests(requestsBox, me);
    }
    view.appendChild(h("form", { class: "toolbar", onsubmit: function (ev) { ev.preventDefault(); load(); } },
      ui.field("console.col.from", from), ui.field("console.col.to", to), h("button", { type: "submit", text: T("console.days.show") }),
      ui.button("console.request.new", function () { askForChange(me, load); }, "primary", { id: "request-new" })));
    view.appendChild(h("h2", { text: T("console.request.mine") }));
    view.appendChild(requestsBox);
    view.appendChild(h("h2", { text: T("console.nav.days") }));
    view.appendChild(box);
    load();
  }

  FC.pages = FC.pages || {};
  FC.pages.days = { titleKey: "console.nav.days", roles: ["admin", "manager"], render: render };
  FC.pages.mine = { titleKey: "console.nav.mine", roles: ["manager", "employee"], render: renderMine };
})();
