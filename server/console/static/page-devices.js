/* faceclock console: Devices (admin) — the kiosks: create (the key shown once, with the QR code of the kiosk address
 * that carries it: POST /api/v1/devices answers kiosk_url and qr_svg), list, revoke, and a device's settings where
 * the API has them: when its answers carry `liveness` (issue 17: PATCH /api/v1/devices/{id} with name, site and
 * liveness off | challenge | null = the server's setting), an Edit dialog changes them. */
(function () {
  "use strict";

  var FC = window.FC, api = FC.api, ui = FC.ui, h = ui.h, T = ui.T, i18n = FC.i18n;

  function showKey(d) {
    var key = h("input", { id: "new-key", readonly: true, value: d.api_key, class: "mono", "aria-describedby": "new-key-hint" });
    var qr = h("img", { id: "new-key-qr", class: "qr", src: "data:image/svg+xml;charset=utf-8," + encodeURIComponent(d.qr_svg),
                        alt: T("console.devices.qrAlt", { name: d.name }) });
    var copied = h("span", { class: "muted", role: "status" });
    var body = h("div", null,
      h("p", { class: "warning", id: "new-key-hint", text: T("console.devices.keyOnce") }),
      ui.field("console.devices.key", key),
      h("div", { class: "toolbar" }, ui.button("console.devices.copy", function () {
        key.select();
        (navigator.clipboard ? navigator.clipboard.writeText(d.api_key) : Promise.reject()).then(
          function () { copied.textContent = T("console.devices.copied"); },
          function () { document.execCommand && document.execCommand("copy"); copied.textContent = T("console.devices.copied"); });
      }), copied),
      h("figure", null, qr, h("figcaption", null, T("console.devices.qrText"), " ", h("code", { id: "new-key-url", text: d.kiosk_url }))));
    var dlg = ui.dialog("console.devices.created", body, [h("button", { type: "button", class: "primary", id: "key-saved",
      text: T("console.devices.keySaved"), onclick: function () { dlg.close(); } })], { noFocus: true });
    key.focus();
    key.select();
  }

  function createDialog(reload) {
    var name = ui.input({ required: true, maxlength: 200, id: "device-name" });
    var site = ui.input({ maxlength: 100, id: "device-site" });
    var created = null;
    var dlg = ui.formDialog("console.devices.new", [ui.field("console.devices.name", name), ui.field("console.devices.site", site)],
      "console.create", function () {
        return api.post("/api/v1/devices", { name: name.value.trim(), site: site.value.trim() || null }).then(function (d) { created = d; });
      });
    dlg.el.addEventListener("close", function () { if (created) { reload(); showKey(created); } });
  }

  function revoke(d, reload) {
    ui.ask("console.devices.revoke", { text: T("console.devices.revoke.text", { name: d.name }), noReason: true,
                                       okKey: "console.devices.revoke",
                                       run: function () { return api.del("/api/v1/devices/" + d.id); } })
      .then(function (done) { if (done) { ui.notify(T("console.devices.revoked", { name: d.name }), "ok"); reload(); } });
  }

  function editDialog(d, reload) {
    var name = ui.input({ required: true, maxlength: 200, id: "device-edit-name", value: d.name });
    var site = ui.input({ maxlength: 100, id: "device-edit-site", value: d.site || "" });
    var mode = ui.select([["", T("console.devices.livenessDefault")], ["off", T("console.devices.liveness.off")],
                          ["challenge", T("console.devices.liveness.challenge")]], d.liveness_override || "", { id: "device-edit-liveness" });
    ui.formDialog("console.devices.edit", [ui.field("console.devices.name", name), ui.field("console.devices.site", site),
      ui.field("console.devices.liveness", mode, "console.devices.liveness.hint")], "console.save", function () {
      return api.patch("/api/v1/devices/" + d.id, { name: name.value.trim(), site: site.value.trim() || null, liveness: mode.value || null })
        .then(function () { ui.notify(T("console.saved"), "ok"); reload(); });
    });
  }

  function render(view) {
    var list = h("div", { id: "devices-list" });
    function load() {
      return api.get("/api/v1/devices").then(function (rows) {
        var settings = rows.length && rows[0].liveness !== undefined;  // the API has per-device settings
        ui.clear(list).appendChild(ui.table([
          { key: "console.col.name", head: true, cell: function (d) { return d.name; } },
          { key: "console.col.site", cell: function (d) { return d.site || ""; } },
          { key: "console.col.key", cell: function (d) { return h("code", { text: d.key_prefix + "…" }); } },
          { key: "console.col.created", cell: function (d) { return i18n.dateTime(d.created_at); } },
          { key: "console.col.lastSeen", cell: function (d) { return d.last_seen_at ? i18n.dateTime(d.last_seen_at) : T("console.devices.never"); } },
          { key: "console.col.status", cell: function (d) {
            return d.revoked_at ? ui.badge(T("console.devices.revokedOn", { date: i18n.dateTime(d.revoked_at) }), "muted") : ui.badge(T("console.devices.active"), "ok");
          } },
          settings ? { key: "console.devices.liveness", cell: function (d) {
            return T("console.devices.liveness." + d.liveness) + (d.liveness_override ? "" : " " + T("console.devices.byDefault"));
          } } : null,
          { key: "console.col.actions", cell: function (d) {
            if (d.revoked_at) return "";
            return h("span", { class: "punch-actions" },
              settings ? ui.button("console.devices.edit", function () { editDialog(d, load); }, "", { "aria-label": T("console.devices.editNamed", { name: d.name }) }) : null,
              ui.button("console.devices.revoke", function () { revoke(d, load); }, "danger", { "aria-label": T("console.devices.revokeNamed", { name: d.name }) }));
          } }
        ].filter(Boolean), rows, { emptyKey: "console.devices.none", caption: T("console.nav.devices"), captionHidden: true,
                   rowAttrs: function (d) { return { "data-device": d.id }; } }));
      }, ui.fail);
    }
    view.appendChild(h("p", { class: "muted", text: T("console.devices.intro") }));
    view.appendChild(h("div", { class: "toolbar" }, ui.button("console.devices.new", function () { createDialog(load); }, "primary", { id: "device-new" })));
    view.appendChild(list);
    load();
  }

  FC.pages = FC.pages || {};
  FC.pages.devices = { titleKey: "console.nav.devices", roles: ["admin"], render: render };
})();
