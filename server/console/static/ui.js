/* faceclock console: what every page builds with. No innerHTML anywhere: text always goes in as text nodes.
 *   h(tag, attrs, ...children)       an element; attrs: class, text, on<event>, data-*, aria-*, any attribute
 *   field(labelKey, control, hintKey) a labelled form row (the label is tied to the control by id)
 *   table(columns, rows)             columns: [{key: "console.col.name", cell: row => node|text, cls?}]
 *   dialog(titleKey, body, actions)  a modal <dialog> (Esc closes, focus moves in and comes back)
 *   ask(titleKey, opts)              a dialog with a reason (required unless opts.reasonOptional; none with
 *                                    opts.noReason), opts.run(reason) inside it: Promise of the reason (null: cancelled)
 *   notify(text, kind)               the status line (aria-live), errors in plain words via errorText(e)
 *   camera(video)                    the webcam: start(), frame() → JPEG Blob, stop()
 *   personPicker(id)                 a search box with the matching people as suggestions: .el, .user(), .set(u)
 */
(function () {
  "use strict";

  var i18n = window.FC.i18n, T = i18n.t;
  var seq = 0;

  function h(tag, attrs) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k.slice(0, 2) === "on" && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "value") el.value = v;
      else if (k === "checked" || k === "disabled" || k === "selected" || k === "required" || k === "multiple") el[k] = !!v;
      else el.setAttribute(k, v === true ? "" : v);
    });
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
  function uid(prefix) { seq += 1; return (prefix || "f") + seq; }

  function field(labelKey, control, hintKey) {
    if (!control.id) control.id = uid("f");
    var hint = hintKey ? h("span", { class: "hint", id: control.id + "-hint", text: T(hintKey) }) : null;
    if (hint) control.setAttribute("aria-describedby", hint.id);
    return h("div", { class: "field" }, h("label", { for: control.id, text: T(labelKey) }), control, hint);
  }
  function input(attrs) { return h("input", Object.assign({ type: "text" }, attrs)); }
  function select(options, value, attrs) {
    return h("select", attrs || {}, options.map(function (o) {
      return h("option", { value: o[0], selected: String(o[0]) === String(value === undefined ? "" : value), text: o[1] });
    }));
  }
  function button(key, onclick, cls, attrs) {
    return h("button", Object.assign({ type: "button", class: cls || "", onclick: onclick, text: T(key) }, attrs || {}));
  }
  function badge(text, kind) { return h("span", { class: "badge badge-" + (kind || "plain"), text: text }); }

  function table(columns, rows, opts) {
    opts = opts || {};
    var body = h("tbody", null, rows.map(function (r) {
      return h("tr", opts.rowAttrs ? opts.rowAttrs(r) : null, columns.map(function (c) {
        return h(c.head ? "th" : "td", c.head ? { scope: "row", class: c.cls } : { class: c.cls }, c.cell(r));
      }));
    }));
    var t = h("table", { class: "grid" + (opts.cls ? " " + opts.cls : "") },
      opts.caption ? h("caption", { class: opts.captionHidden ? "sr-only" : "", text: opts.caption }) : null,
      h("thead", null, h("tr", null, columns.map(function (c) { return h("th", { scope: "col", class: c.cls, text: T(c.key) }); }))),
      body);
    if (!rows.length && opts.emptyKey) return h("div", null, t, h("p", { class: "muted empty", text: T(opts.emptyKey) }));
    return h("div", { class: "table-wrap" }, t);
  }

  // The columns every list of requests has (/api/v1/requests): the reason, when, and the status with the decision.
  function requestColumns() {
    return [
      { key: "console.reason", cell: function (r) { return r.reason; } },
      { key: "console.col.created", cell: function (r) { return i18n.dateTime(r.created_at); } },
      { key: "console.col.status", cell: function (r) {
        var kind = r.status === "approved" ? "ok" : r.status === "pending" ? "warn" : "muted";
        return h("span", null, badge(T("console.request.status." + r.status), kind),
                 r.decision_reason ? h("q", { class: "muted", text: r.decision_reason }) : null);
      } }
    ];
  }

  // ------------------------------------------------------------------ messages
  function errorText(e) {
    if (!e) return "";
    if (!(e instanceof window.FC.api.ApiError)) { console.error(e); return T("error.unknown", { code: e.message || "?" }); }
    var text = i18n.error(e.code, "console.error.");
    var fields = (e.details && e.details.fields) || [];
    var named = fields.map(function (f) { return (f.loc || []).slice(-1)[0]; }).filter(Boolean);
    if (e.details && e.details.field) named.push(e.details.field);
    if (named.length) text += " (" + named.filter(function (v, i, a) { return a.indexOf(v) === i; }).join(", ") + ")";
    return text;
  }
  function notify(text, kind) {
    var box = document.getElementById("status");
    box.className = "status status-" + (kind || "info");
    box.textContent = text;
    box.hidden = !text;
    clearTimeout(notify.timer);
    if (text && kind !== "error") notify.timer = setTimeout(function () { box.hidden = true; }, 6000);
  }
  function fail(e) { notify(errorText(e), "error"); }  // the last handler of a page's load: says it, ends there

  // ------------------------------------------------------------------ dialogs
  function dialog(titleKey, body, actions, opts) {
    var d = h("dialog", { class: "dialog", "aria-labelledby": uid("dlg") });
    var title = h("h2", { id: d.getAttribute("aria-labelledby"), text: typeof titleKey === "string" ? T(titleKey) : titleKey.text });
    var err = h("p", { class: "error", role: "alert" });
    var form = h("form", { method: "dialog" }, title, body, err, h("div", { class: "actions" }, actions));
    d.appendChild(form);
    var opener = document.activeElement;
    d.addEventListener("close", function () { d.remove(); if (opener && opener.focus) opener.focus(); });
    document.body.appendChild(d);
    d.showModal();
    var first = d.querySelector("input, select, textarea, button");
    if (first && !(opts && opts.noFocus)) first.focus();
    return { el: d, form: form, error: function (e) { err.textContent = e ? errorText(e) : ""; }, close: function () { d.close(); } };
  }

  // A dialog with a form: submit() runs `save`; an error stays in the dialog, success closes it.
  function formDialog(titleKey, fields, saveKey, save) {
    var ok = h("button", { type: "submit", class: "primary", text: T(saveKey) });
    var dlg = dialog(titleKey, h("div", { class: "fields" }, fields), [button("console.cancel", function () { dlg.close(); }), ok]);
    dlg.form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      ok.disabled = true;
      dlg.error(null);
      Promise.resolve().then(save).then(function () { dlg.close(); }, function (e) { dlg.error(e); })
        .finally(function () { ok.disabled = false; });
    });
    return dlg;
  }

  function ask(titleKey, opts) {
    opts = opts || {};
    return new Promise(function (resolve) {
      var reason = h("textarea", { required: !opts.reasonOptional, maxlength: 1000, rows: 3 });
      var parts = [opts.text ? h("p", { text: opts.text }) : null, (opts.fields || []),
                   opts.noReason ? null : field(opts.reasonKey || "console.reason", reason,
                                                opts.reasonOptional ? null : "console.reason.hint")];
      var done = false;
      var dlg = formDialog(titleKey, parts, opts.okKey || "console.confirm", function () {
        done = true;
        return opts.run ? opts.run(reason.value.trim()) : null;
      });
      dlg.el.addEventListener("close", function () { resolve(done ? (reason.value.trim() || true) : null); });
    });
  }

  // ------------------------------------------------------------------ webcam
  function camera(video) {
    var stream = null;
    return {
      start: function () {
        if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
          return Promise.reject(new Error(T("console.camera.noAccess")));
        }
        return navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" }, audio: false })
          .then(function (s) { stream = s; video.srcObject = s; return video.play().catch(function () {}); });
      },
      ready: function () { return video.readyState >= 2; },
      frame: function () {
        var c = document.createElement("canvas");
        c.width = video.videoWidth || 640; c.height = video.videoHeight || 480;
        c.getContext("2d").drawImage(video, 0, 0, c.width, c.height);
        return new Promise(function (r) { c.toBlob(r, "image/jpeg", 0.92); });
      },
      stop: function () {
        if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
        stream = null; video.srcObject = null;
      }
    };
  }

  // ------------------------------------------------------------------ choosing a person (GET /api/v1/users?search=)
  function personPicker(id) {
    var input = h("input", { type: "search", id: id, list: id + "-list", autocomplete: "off" });
    var options = h("datalist", { id: id + "-list" }), found = {}, chosen = null, timer = null;
    function label(u) { return u.full_name + " (" + u.employee_code + ")"; }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      if (found[input.value]) chosen = found[input.value];
      timer = setTimeout(function () {
        window.FC.api.get("/api/v1/users", { search: input.value.trim(), limit: 20 }).then(function (page) {
          clear(options);
          page.items.forEach(function (u) { found[label(u)] = u; options.appendChild(h("option", { value: label(u) })); });
          if (found[input.value]) chosen = found[input.value];
        }, function () {});
      }, 200);
    });
    return {
      el: h("span", null, input, options), input: input,
      user: function () { return found[input.value] || (chosen && label(chosen) === input.value ? chosen : null); },
      set: function (u) { chosen = u; found[label(u)] = u; input.value = label(u); }
    };
  }

  // ------------------------------------------------------------------ dates, times, minutes
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function isoDay(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
  function addDays(iso, n) {
    var p = iso.split("-"), d = new Date(+p[0], +p[1] - 1, +p[2] + n);
    return isoDay(d);
  }
  function today() { return isoDay(new Date()); }
  function mondayOf(iso) {
    var p = iso.split("-"), d = new Date(+p[0], +p[1] - 1, +p[2]);
    return addDays(iso, -((d.getDay() + 6) % 7));
  }
  // Offset (minutes east of UTC) of `zone` at the instant `ms`, from Intl (no time zone library).
  function offsetAt(ms, zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
                                       hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(new Date(ms)).forEach(function (p) { parts[p.type] = p.value; });
    var asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour % 24, +parts.minute, +parts.second);
    return Math.round((asUtc - ms) / 60000);
  }
  // A wall time ("2026-11-25", "09:30") in `zone` as an ISO instant with that zone's offset then.
  function zonedIso(day, time, zone) {
    var p = day.split("-"), t = time.split(":");
    var wall = Date.UTC(+p[0], +p[1] - 1, +p[2], +t[0], +t[1]);
    var off = offsetAt(wall, zone);
    off = offsetAt(wall - off * 60000, zone);
    var sign = off < 0 ? "-" : "+", a = Math.abs(off);
    return day + "T" + pad(+t[0]) + ":" + pad(+t[1]) + ":00" + sign + pad(Math.floor(a / 60)) + ":" + pad(a % 60);
  }
  // The wall date and time ("YYYY-MM-DD", "HH:MM") of an instant in `zone`.
  function wallOf(iso, zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
                                       hour: "2-digit", minute: "2-digit" })
      .formatToParts(new Date(iso)).forEach(function (p) { parts[p.type] = p.value; });
    return [parts.year + "-" + parts.month + "-" + parts.day, pad(+parts.hour % 24) + ":" + parts.minute];
  }
  function browserZone() { try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { return "UTC"; } }
  function minutes(n) {
    n = n || 0;
    var hh = Math.floor(Math.abs(n) / 60), mm = Math.abs(n) % 60;
    return (n < 0 ? "−" : "") + (hh ? T("console.hm", { h: hh, m: pad(mm) }) : T("console.m", { m: mm }));
  }

  window.FC = window.FC || {};
  window.FC.ui = {
    h: h, clear: clear, append: append, uid: uid, field: field, input: input, select: select, button: button,
    badge: badge, table: table, dialog: dialog, formDialog: formDialog, ask: ask, notify: notify, fail: fail,
    personPicker: personPicker, requestColumns: requestColumns,
    errorText: errorText, camera: camera, today: today, addDays: addDays, mondayOf: mondayOf, zonedIso: zonedIso,
    wallOf: wallOf, browserZone: browserZone, minutes: minutes, T: T
  };
})();
