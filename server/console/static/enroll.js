/* faceclock console: a person's face data — the templates on file, enrollment of 1–5 photos (uploaded, or taken
 * with the laptop's webcam) after showing the consent text (GET /api/v1/users/consent-text, in the console's
 * language; its version and language are sent with the enrollment and recorded), the quality gate's answer per
 * photo in plain words, a duplicate named, and erasure (DELETE /users/{id}/faces).
 * Enrollment is all or nothing (the API stores no photo unless all pass): photos that passed while another failed
 * are marked so, and the failing ones can be removed or replaced before sending again. */
(function () {
  "use strict";

  var FC = window.FC, api = FC.api, ui = FC.ui, h = ui.h, T = ui.T, i18n = FC.i18n;
  var MAX = 5;
  var activeCam = null;  // stopped when the page changes (FC.enroll.stop)

  function qualityText(q) {
    if (!q) return T("console.enroll.accepted");
    return T("console.enroll.acceptedDetail", { size: q.size, sharpness: Math.round(q.sharpness), light: Math.round(q.brightness) });
  }

  function templatesBlock(user) {
    var box = h("div", { id: "templates" });
    api.get("/api/v1/users/" + user.id + "/faces").then(function (rows) {
      box.appendChild(h("p", { "data-templates": rows.length, text: rows.length ?
        T("console.enroll.onFile", { count: rows.length, date: i18n.dateTime(rows[rows.length - 1].created_at) }) :
        T("console.enroll.none") }));
      if (user.consent_at && rows.length) {
        box.appendChild(h("p", { class: "muted", text: T("console.enroll.consentOn", { date: i18n.dateTime(user.consent_at), version: user.consent_version || "" }) }));
      }
    }, ui.fail);
    return box;
  }

  function section(user, me) {
    var card = h("section", { class: "card", "aria-labelledby": "face-data-title" },
      h("h2", { id: "face-data-title", text: T("console.enroll.title") }), templatesBlock(user));
    if (user.is_active) card.appendChild(enrollForm(user, me));
    card.appendChild(h("div", { class: "toolbar" }, ui.button("console.enroll.erase", function () {
      ui.ask("console.enroll.erase", { text: T("console.enroll.erase.text", { name: user.full_name }), noReason: true,
                                       okKey: "console.enroll.erase",
                                       run: function () { return api.del("/api/v1/users/" + user.id + "/faces"); } })
        .then(function (done) { if (done) { ui.notify(T("console.enroll.erased"), "ok"); FC.refresh(); } });
    }, "danger", { id: "erase-faces" })));
    return card;
  }

  function enrollForm(user, me) {
    var photos = [];  // {blob, url, source, status, kind}
    var consentBox = h("div", { class: "consent", id: "consent-text", tabindex: "0", "aria-live": "polite" }, T("console.loading"));
    var consent = { version: null, lang: null };
    var agree = h("input", { type: "checkbox", id: "consent-agree", required: true });
    var file = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp", multiple: true, id: "enroll-files" });
    var video = h("video", { class: "camera", autoplay: true, muted: true, playsinline: true, id: "enroll-video", hidden: true });
    var cam = ui.camera(video);
    activeCam = cam;
    var snap = ui.button("console.enroll.takePhoto", takePhoto, "", { id: "enroll-snap", hidden: true });
    var camButton = ui.button("console.enroll.webcam", startCam, "", { id: "enroll-webcam" });
    var list = h("ol", { class: "photos", id: "enroll-photos", "aria-live": "polite" });
    var dup = h("div", { id: "enroll-duplicate" });
    var allowDup = h("input", { type: "checkbox", id: "enroll-allow-duplicate" });
    var send = h("button", { type: "submit", class: "primary", id: "enroll-send", text: T("console.enroll.send") });
    var result = h("p", { id: "enroll-result", role: "status" });

    api.get("/api/v1/users/consent-text", { lang: i18n.lang() }).then(function (c) {
      consent = { version: c.version, lang: c.lang };
      ui.clear(consentBox);
      c.text.split(/\n\s*\n/).forEach(function (para) { consentBox.appendChild(h("p", { text: para })); });
      consentBox.appendChild(h("p", { class: "muted", text: T("console.enroll.consentVersion", { version: c.version }) }));
    }, function (e) { ui.clear(consentBox).appendChild(h("p", { class: "error", text: ui.errorText(e) })); send.disabled = true; });

    function add(blob, source) {
      if (photos.length >= MAX) { ui.notify(T("console.enroll.max", { max: MAX }), "error"); return; }
      photos.push({ blob: blob, url: URL.createObjectURL(blob), source: source, status: T("console.enroll.waiting"), kind: "plain" });
      draw();
    }
    function draw() {
      ui.clear(list);
      photos.forEach(function (p, i) {
        list.appendChild(h("li", { class: "photo", "data-kind": p.kind },
          h("img", { src: p.url, alt: T("console.enroll.photoAlt", { n: i + 1 }) }),
          h("span", { class: "photo-status status-" + p.kind, text: T("console.enroll.photoN", { n: i + 1 }) + ": " + p.status }),
          h("button", { type: "button", class: "link", "aria-label": T("console.enroll.removeN", { n: i + 1 }),
                        text: T("console.enroll.remove"), onclick: function () { URL.revokeObjectURL(p.url); photos.splice(i, 1); draw(); } })));
      });
      send.disabled = !photos.length || !consent.version;
    }
    function startCam() {
      video.hidden = false; snap.hidden = false; camButton.hidden = true;
      cam.start().then(function () { snap.focus(); }, function (e) {
        ui.notify(T("console.camera.failed", { name: e.name || e.message }), "error");
      });
    }
    function takePhoto() { if (cam.ready()) cam.frame().then(function (b) { add(b, "webcam"); }); }
    file.addEventListener("change", function () {
      Array.prototype.slice.call(file.files).forEach(function (f) { add(f, "upload"); });
      file.value = "";
    });

    function showDuplicate(e) {
      ui.clear(dup);
      var other = e.details.user_id;
      var line = h("p", { class: "error" }, T("console.enroll.duplicate") + " ");
      dup.appendChild(line);
      api.get("/api/v1/users/" + other).then(function (u) {
        line.appendChild(FC.link(u.full_name + " (" + u.employee_code + ")", "people", u.id));
      }, function () { line.appendChild(document.createTextNode("#" + other)); });
      if (me.role === "admin") dup.appendChild(h("label", null, allowDup, " " + T("console.enroll.allowDuplicate")));
    }

    function submit(ev) {
      ev.preventDefault();
      if (!agree.checked) { ui.notify(T("console.enroll.consentNeeded"), "error"); agree.focus(); return; }
      var fd = new FormData();
      photos.forEach(function (p, i) { fd.append("images", p.blob, "photo" + i + ".jpg"); });
      fd.append("consent", "true");
      fd.append("consent_text_version", consent.version);
      fd.append("consent_lang", consent.lang);
      if (allowDup.checked) fd.append("allow_duplicate", "true");
      send.disabled = true;
      result.textContent = T("console.enroll.sending");
      api.postForm("/api/v1/users/" + user.id + "/faces", fd).then(function (out) {
        out.templates.forEach(function (t, i) { if (photos[i]) { photos[i].status = qualityText(t.quality); photos[i].kind = "ok"; } });
        draw();
        ui.clear(dup);
        result.textContent = T("console.enroll.done", { count: out.templates.length });
        document.body.dataset.enrolled = String(out.templates.length);
        cam.stop();
        photos = [];  // sent: the list shows their answers until the next photo is added
        var old = document.getElementById("templates");  // the templates on file, redrawn in place
        if (old) old.replaceWith(templatesBlock(Object.assign({}, user, { consent_at: out.consent_at, consent_version: out.consent_version })));
      }, function (e) {
        result.textContent = ui.errorText(e);
        var failures = (e.details && e.details.failures) || [];
        if (failures.length) {
          photos.forEach(function (p, i) {
            var f = failures.filter(function (x) { return x.index === i; })[0];
            p.status = f ? i18n.error(f.code, "console.enroll.error.") : T("console.enroll.passedNotStored");
            p.kind = f ? "bad" : "warn";
          });
          result.textContent = T("console.enroll.failed", { count: failures.length });
          draw();
        } else if (e.code === "duplicate_face") showDuplicate(e);
        else if (e.code === "consent_text_changed") ui.notify(ui.errorText(e), "error");
        send.disabled = false;
      });
    }

    var form = h("form", { class: "enroll", onsubmit: submit },
      h("h3", { text: T("console.enroll.new") }),
      h("h4", { id: "consent-title", text: T("console.enroll.consentTitle") }), consentBox,
      h("div", { class: "check" }, agree, h("label", { for: "consent-agree", text: T("console.enroll.agree") })),
      h("div", { class: "toolbar" }, ui.field("console.enroll.upload", file, "console.enroll.upload.hint"), camButton),
      video, snap, list, dup, h("div", { class: "toolbar" }, send), result);
    consentBox.setAttribute("aria-labelledby", "consent-title");
    draw();
    return form;
  }

  FC.enroll = { section: section, stop: function () { if (activeCam) activeCam.stop(); activeCam = null; } };
})();
