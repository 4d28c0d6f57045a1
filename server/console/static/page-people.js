/* faceclock console: People — search, create, edit, deactivate / reactivate (/api/v1/users), and one person's page:
 * details, shift assignment (PUT /users/{id}/shift, history), face enrollment and erasure (enroll.js). A manager
 * sees and creates employees of its own site only (the API refuses the rest; the form does not offer it). */
(function () {
  "use strict";

  var FC = window.FC, api = FC.api, ui = FC.ui, h = ui.h, T = ui.T, i18n = FC.i18n;
  var ROLES = ["employee", "manager", "admin"];

  function enrolled(u) { return !!u.consent_at && !u.biometrics_erased_at; }
  function roleOptions() { return ROLES.map(function (r) { return [r, T("console.role." + r)]; }); }

  // ------------------------------------------------------------------ the form (create and edit)
  function personForm(me, user) {
    var admin = me.role === "admin";
    var f = {
      code: ui.input({ id: "person-code", value: user ? user.employee_code : "", required: !user, disabled: !!user, maxlength: 64,
                       pattern: "[A-Za-z0-9._\\-]+", autocomplete: "off" }),
      name: ui.input({ id: "person-name", value: user ? user.full_name : "", required: true, maxlength: 200, autocomplete: "off" }),
      email: ui.input({ id: "person-email", type: "email", value: user ? user.email : "", maxlength: 320, autocomplete: "off" }),
      role: ui.select(roleOptions(), user ? user.role : "employee", { disabled: !admin, id: "person-role" }),
      site: ui.input({ id: "person-site", value: user ? user.site : (admin ? "" : me.site), disabled: !admin, maxlength: 100 }),
      zone: ui.input({ id: "person-zone", value: user ? user.timezone : "", maxlength: 64, placeholder: "Europe/Madrid" }),
      password: ui.input({ id: "person-password", type: "password", maxlength: 1024, autocomplete: "new-password" })
    };
    var rows = [ui.field("console.person.code", f.code), ui.field("console.person.name", f.name),
                ui.field("console.person.email", f.email), ui.field("console.person.role", f.role),
                ui.field("console.person.site", f.site), ui.field("console.person.timezone", f.zone, "console.person.timezone.hint"),
                ui.field(user ? "console.person.newPassword" : "console.person.password", f.password, "console.person.password.hint")];
    function value() {
      var v = { full_name: f.name.value.trim(), email: f.email.value.trim() || null, timezone: f.zone.value.trim() || null };
      if (admin) { v.role = f.role.value; v.site = f.site.value.trim() || null; }
      if (f.password.value) v.password = f.password.value;
      if (!user) v.employee_code = f.code.value.trim();
      return v;
    }
    return { rows: rows, value: value };
  }

  function createDialog(me) {
    var form = personForm(me, null);
    ui.formDialog("console.people.new", form.rows, "console.create", function () {
      return api.post("/api/v1/users", form.value()).then(function (u) {
        ui.notify(T("console.people.created", { name: u.full_name }), "ok");
        FC.go("people", u.id);
      });
    });
  }

  // ------------------------------------------------------------------ the list
  function renderList(view, params, me) {
    var search = ui.input({ type: "search", value: params.q || "", id: "people-search", autocomplete: "off" });
    var active = ui.select([["true", T("console.people.active")], ["false", T("console.people.inactive")], ["", T("console.people.everyone")]],
                           params.active === undefined ? "true" : params.active, { id: "people-active" });
    var list = h("div", { id: "people-list", "aria-live": "polite" });
    view.appendChild(h("div", { class: "toolbar" },
      ui.field("console.people.search", search, "console.people.search.hint"), ui.field("console.people.show", active),
      ui.button("console.people.new", function () { createDialog(me); }, "primary", { id: "people-new" })));
    view.appendChild(list);
    var timer = null;
    function load() {
      var q = { search: search.value.trim(), active: active.value, limit: 200 };
      return api.get("/api/v1/users", q).then(function (page) {
        ui.clear(list);
        list.appendChild(ui.table([
          { key: "console.col.code", cell: function (u) { return u.employee_code; } },
          { key: "console.col.name", head: true, cell: function (u) { return FC.link(u.full_name, "people", u.id); } },
          { key: "console.col.role", cell: function (u) { return T("console.role." + u.role); } },
          { key: "console.col.site", cell: function (u) { return u.site || ""; } },
          { key: "console.col.face", cell: function (u) { return enrolled(u) ? ui.badge(T("console.people.enrolled"), "ok") : ui.badge(T("console.people.notEnrolled"), "muted"); } },
          { key: "console.col.status", cell: function (u) { return u.is_active ? T("console.people.active1") : ui.badge(T("console.people.inactive1"), "muted"); } }
        ], page.items, { emptyKey: "console.people.none", caption: T("console.nav.people"), captionHidden: true,
                         rowAttrs: function (u) { return { "data-user": u.id }; } }));
        if (page.total > page.items.length) list.appendChild(h("p", { class: "muted", text: T("console.people.more", { shown: page.items.length, total: page.total }) }));
      }, ui.fail);
    }
    search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(load, 250); });
    active.addEventListener("change", load);
    load();
  }

  // ------------------------------------------------------------------ one person
  function shiftSection(user, me) {
    var box = h("section", { class: "card", "aria-labelledby": "shift-title" }, h("h2", { id: "shift-title", text: T("console.person.shift") }));
    Promise.all([api.get("/api/v1/users/" + user.id + "/shifts"), api.get("/api/v1/shifts")]).then(function (r) {
      var history = r[0], shifts = r[1];
      box.appendChild(ui.table([
        { key: "console.col.shift", cell: function (a) { return a.shift_name || "#" + a.shift_id; } },
        { key: "console.col.from", cell: function (a) { return i18n.day(a.valid_from); } },
        { key: "console.col.to", cell: function (a) { return a.valid_to ? i18n.day(a.valid_to) : T("console.person.openEnded"); } }
      ], history, { emptyKey: "console.person.noShift" }));
      if (!user.is_active || !shifts.length) return;
      var sel = ui.select(shifts.map(function (s) { return [s.id, s.name]; }), "", { id: "assign-shift" });
      var from = ui.input({ type: "date", value: ui.today(), required: true, id: "assign-from" });
      var to = ui.input({ type: "date", id: "assign-to" });
      box.appendChild(h("form", { class: "inline-form", onsubmit: function (ev) {
        ev.preventDefault();
        api.put("/api/v1/users/" + user.id + "/shift", { shift_id: +sel.value, valid_from: from.value, valid_to: to.value || null })
          .then(function () { ui.notify(T("console.person.assigned"), "ok"); FC.refresh(); }, ui.fail);
      } }, ui.field("console.person.assign", sel), ui.field("console.col.from", from), ui.field("console.col.to", to),
        h("button", { type: "submit", text: T("console.person.assignButton") })));
    }, ui.fail);
    return box;
  }

  function renderPerson(view, id, me) {
    api.get("/api/v1/users/" + id).then(function (user) {
      view.querySelector("h1").textContent = user.full_name;
      document.body.dataset.user = user.id;
      var facts = h("p", { class: "facts" }, user.employee_code, " · ", T("console.role." + user.role),
                    user.site ? " · " + user.site : "", user.is_active ? "" : " · ", user.is_active ? null : ui.badge(T("console.people.inactive1"), "muted"));
      var actions = h("div", { class: "toolbar" },
        ui.button("console.person.edit", function () { editDialog(user, me); }, "", { id: "person-edit" }),
        FC.link(T("console.person.days"), "days", null, { user: user.id }),
        user.id === me.id ? null : ui.button(user.is_active ? "console.person.deactivate" : "console.person.reactivate",
          function () { setActive(user, !user.is_active); }, user.is_active ? "danger" : "", { id: "person-active" }));
      view.appendChild(facts);
      view.appendChild(actions);
      view.appendChild(shiftSection(user, me));
      view.appendChild(FC.enroll.section(user, me));
    }, ui.fail);
  }

  function editDialog(user, me) {
    var form = personForm(me, user);
    ui.formDialog("console.person.edit", form.rows, "console.save", function () {
      return api.patch("/api/v1/users/" + user.id, form.value()).then(function () {
        ui.notify(T("console.saved"), "ok"); FC.refresh();
      });
    });
  }

  function setActive(user, on) {
    ui.ask(on ? "console.person.reactivate" : "console.person.deactivate", {
      text: T(on ? "console.person.reactivate.text" : "console.person.deactivate.text", { name: user.full_name }),
      noReason: true, okKey: on ? "console.person.reactivate" : "console.person.deactivate",
      run: function () { return api.patch("/api/v1/users/" + user.id, { is_active: on }); }
    }).then(function (done) { if (done) { ui.notify(T("console.saved"), "ok"); FC.refresh(); } });
  }

  FC.pages = FC.pages || {};
  FC.pages.people = {
    titleKey: "console.nav.people", roles: ["admin", "manager"],
    render: function (view, params, me) {
      if (!params.id) return renderList(view, params, me);
      renderPerson(view, params.id, me);
      return FC.enroll.stop;  // the webcam goes off when the page changes
    }
  };
})();
