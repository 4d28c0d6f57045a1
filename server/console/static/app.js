/* faceclock console: sign-in, navigation and the page router (#/today, #/people/12, #/days?user=12 ...).
 * Pages register themselves in FC.pages: {titleKey, roles, render(view, params, me) → optional cleanup function}.
 * Roles: an admin sees every page; a manager the pages of its own site's people (the API enforces it, the console
 * only hides what would be refused); an employee only its own attendance.
 */
(function () {
  "use strict";

  var FC = window.FC, api = FC.api, ui = FC.ui, h = ui.h, T = ui.T;
  var NAV = ["today", "people", "days", "shifts", "devices", "calendar", "reports", "mine"];
  var HOME = { admin: "today", manager: "today", employee: "mine" };
  var cleanup = null;
  FC.pages = FC.pages || {};

  function $(id) { return document.getElementById(id); }

  function parseHash() {
    var raw = (location.hash || "").replace(/^#\/?/, ""), q = raw.indexOf("?");
    var path = (q >= 0 ? raw.slice(0, q) : raw).split("/").filter(Boolean);
    var params = {};
    new URLSearchParams(q >= 0 ? raw.slice(q + 1) : "").forEach(function (v, k) { params[k] = v; });
    return { name: path[0] || "", id: path[1], params: params };
  }
  FC.go = function (name, id, params) {
    var qs = params ? new URLSearchParams(params).toString() : "";
    location.hash = "#/" + name + (id ? "/" + id : "") + (qs ? "?" + qs : "");
  };
  FC.link = function (text, name, id, params) {
    var qs = params ? new URLSearchParams(params).toString() : "";
    return h("a", { href: "#/" + name + (id ? "/" + id : "") + (qs ? "?" + qs : ""), text: text });
  };

  function allowed(page, me) { return page && page.roles.indexOf(me.role) >= 0; }

  function renderNav(me) {
    var nav = ui.clear($("nav")), current = parseHash().name;
    NAV.forEach(function (name) {
      var page = FC.pages[name];
      if (!allowed(page, me)) return;
      nav.appendChild(h("a", { href: "#/" + name, "aria-current": name === current ? "page" : null,
                               "data-page": name, text: T(page.titleKey) }));
    });
    $("whoami").textContent = T("console.whoami", { name: me.full_name, role: T("console.role." + me.role) }) +
      (me.site ? " · " + me.site : "");
  }

  function route() {
    var me = api.user();
    if (!me) return showSignIn();
    $("signin").hidden = true;
    $("app").hidden = false;
    var r = parseHash(), page = FC.pages[r.name];
    if (!allowed(page, me)) { FC.go(HOME[me.role] || "mine"); return; }
    if (typeof cleanup === "function") cleanup();
    cleanup = null;
    renderNav(me);
    var view = ui.clear($("view"));
    document.title = T(page.titleKey) + " — faceclock";
    view.appendChild(h("h1", { id: "page-title", tabindex: "-1", text: T(page.titleKey) }));
    document.body.dataset.page = r.name;
    ui.notify("");
    try {
      cleanup = page.render(view, Object.assign({ id: r.id }, r.params), me);
    } catch (e) { ui.notify(ui.errorText(e), "error"); }
    $("page-title").focus({ preventScroll: true });
  }
  FC.refresh = route;

  // ------------------------------------------------------------------ sign-in (password, face)
  var faceCam = null;
  function showSignIn(messageKey) {
    $("app").hidden = true;
    $("signin").hidden = false;
    document.body.dataset.page = "signin";
    document.title = T("console.signin.title") + " — faceclock";
    $("signin-error").textContent = messageKey ? T(messageKey) : "";
    $("username").focus();
  }

  function signedIn(me) {
    if (faceCam) { faceCam.stop(); faceCam = null; $("face-box").hidden = true; }
    $("password").value = "";
    $("signin-error").textContent = "";
    if (parseHash().name) route(); else FC.go(HOME[me.role] || "mine");  // the hash change routes
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // Face login with a head-turn challenge, as the kiosk page does (kiosk-liveness.js): one frame looking at the
  // camera, then the arrow and the words, then 3 frames over ~1.5 s, sent with the challenge_id.
  var ARROWS = { turn_left: "\u2190", turn_right: "\u2192" };  // the person's own left is the screen's left
  function challengeSignIn(code) {
    return api.faceChallenge().then(function (c) {
      var frames = [];
      return faceCam.frame().then(function (b) {
        frames.push(b);
        $("face-challenge-arrow").textContent = ARROWS[c.action];
        $("face-challenge-words").textContent = T("kiosk.liveness." + c.action);
        $("face-challenge").hidden = false;
        document.body.dataset.challenge = c.action;
        var chain = sleep(350);
        for (var i = 0; i < 3; i++) {
          chain = chain.then(function () { return faceCam.frame(); }).then(function (b) { frames.push(b); })
            .then(function () { return frames.length < 4 ? sleep(575) : null; });
        }
        return chain;
      }).finally(function () {
        $("face-challenge").hidden = true;
        delete document.body.dataset.challenge;
      }).then(function () { return api.faceSignIn(frames, code, c.challenge_id); });
    });
  }
  function faceErrorText(e) {
    if (e instanceof api.ApiError && e.code === "liveness_failed") {
      return T("kiosk.liveness.failed." + ((e.details && e.details.reason) || "no_turn"));
    }
    return ui.errorText(e);
  }

  function bindSignIn() {
    $("signin-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var btn = $("signin-submit");
      btn.disabled = true;
      $("signin-error").textContent = T("console.signin.checking");
      api.signIn($("username").value.trim(), $("password").value).then(signedIn, function (e) {
        $("signin-error").textContent = ui.errorText(e);
      }).finally(function () { btn.disabled = false; });
    });
    $("face-start").addEventListener("click", function () {
      $("face-box").hidden = false;
      faceCam = faceCam || ui.camera($("face-video"));
      faceCam.start().then(function () { $("face-go").disabled = false; $("face-go").focus(); }, function (e) {
        $("signin-error").textContent = T("console.camera.failed", { name: e.name || e.message });
      });
    });
    $("face-go").addEventListener("click", function () {
      if (!faceCam || !faceCam.ready()) return;
      var btn = $("face-go");
      btn.disabled = true;
      $("signin-error").textContent = T("console.signin.checking");
      var code = $("face-code").value.trim();
      Promise.all([faceCam.frame(), sleep(150).then(faceCam.frame)])
        .then(function (frames) { return api.faceSignIn(frames, code); })
        .catch(function (e) {  // LIVENESS_LOGIN=challenge: answer a head-turn challenge (docs/liveness.md)
          if (e instanceof api.ApiError && e.code === "liveness_required") return challengeSignIn(code);
          throw e;
        })
        .then(signedIn, function (e) { $("signin-error").textContent = faceErrorText(e); })
        .finally(function () { btn.disabled = false; });
    });
  }

  function bindChrome() {
    $("signout").addEventListener("click", function () {
      if (typeof cleanup === "function") cleanup();
      cleanup = null;
      api.signOut().then(function () { showSignIn("console.signin.signedOut"); });
    });
    api.onEnded(function () { if (typeof cleanup === "function") cleanup(); cleanup = null; showSignIn("console.signin.ended"); });
    window.addEventListener("hashchange", route);
    FC.i18n.onChange(function () { if (api.user()) route(); else showSignIn(); });
  }

  FC.i18n.ready.then(function () {
    bindSignIn();
    bindChrome();
    var me = api.user();
    if (!me) return showSignIn();
    // a reload: check the session is still good (renews the access token when needed)
    api.get("/api/v1/users/me").then(function (fresh) { api.setUser(fresh); route(); },
                                     function () { showSignIn("console.signin.ended"); });
  });
})();
