/* faceclock console: the API client. The console has no backend of its own: every call is the public API.
 *
 * Session: the token pair of POST /api/v1/auth/login (or /auth/face-login) is kept in sessionStorage (this tab;
 * gone when the tab closes). The access token is renewed with POST /auth/refresh a minute before it expires, and
 * once more when a call answers 401 invalid_token; refreshes never overlap (a refresh token is spent once: the
 * server revokes the whole family when a spent one comes back). Sign-out revokes the refresh token (/auth/logout).
 *
 * FC.api.call(method, path, {query, json, form}) → Promise of the parsed answer; a refusal rejects with an ApiError
 * {status, code, body, message} whose code is the API's stable error code ("network" when there was no answer).
 */
(function () {
  "use strict";

  var STORE = "faceclock.console.session";
  var RENEW_BEFORE_S = 60;
  var session = load(), renewing = null, renewTimer = null, listeners = [];

  function load() { try { return JSON.parse(sessionStorage.getItem(STORE)) || null; } catch (e) { return null; } }
  function save(s) {
    session = s;
    if (s) sessionStorage.setItem(STORE, JSON.stringify(s)); else sessionStorage.removeItem(STORE);
    schedule();
  }

  function ApiError(status, body) {
    var e = body && body.error ? body.error : {};
    this.status = status;
    this.code = e.code || (status === 0 ? "network" : "http_" + status);
    this.body = body;
    this.details = e;
    this.message = e.message || this.code;
  }
  ApiError.prototype = Object.create(Error.prototype);

  function url(path, query) {
    var u = new URL(path, location.origin);
    Object.keys(query || {}).forEach(function (k) {
      var v = query[k];
      if (v !== undefined && v !== null && v !== "") u.searchParams.set(k, v);
    });
    return u.pathname + u.search;
  }

  function raw(method, path, opts, token) {
    opts = opts || {};
    var headers = { Accept: "application/json" }, body;
    if (token) headers.Authorization = "Bearer " + token;
    if (opts.json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(opts.json); }
    else if (opts.form) body = opts.form;
    return fetch(url(path, opts.query), { method: method, headers: headers, body: body, cache: "no-store" })
      .then(function (r) {
        if (opts.blob && r.ok) {
          return r.blob().then(function (b) { return { status: r.status, body: b, headers: r.headers }; });
        }
        return r.text().then(function (t) {
          var parsed = null;
          try { parsed = t ? JSON.parse(t) : null; } catch (e) { parsed = null; }
          return { status: r.status, body: parsed, headers: r.headers };
        });
      }, function () { return { status: 0, body: null, headers: null }; });
  }

  function asPair(body) {
    return { access: body.access_token, refresh: body.refresh_token,
             expiresAt: Date.now() + (body.expires_in || 900) * 1000 };
  }

  function schedule() {
    clearTimeout(renewTimer);
    if (!session) return;
    var wait = Math.max(5000, session.expiresAt - Date.now() - RENEW_BEFORE_S * 1000);
    renewTimer = setTimeout(function () { renew().catch(function () { /* ended(): the sign-in page says so */ }); }, wait);
  }

  // One refresh at a time; every caller waiting on it gets the same new pair.
  function renew() {
    if (!session) return Promise.reject(new ApiError(401, null));
    if (renewing) return renewing;
    var spent = session.refresh;
    renewing = raw("POST", "/api/v1/auth/refresh", { json: { refresh_token: spent } }).then(function (r) {
      renewing = null;
      if (r.status === 200) { save(Object.assign({}, session, asPair(r.body))); return session; }
      if (r.status === 0) { schedule(); throw new ApiError(0, null); }  // offline: try again later
      ended("invalid_token");
      throw new ApiError(r.status, r.body);
    });
    return renewing;
  }

  function ended(code) {
    save(null);
    listeners.forEach(function (fn) { fn(code); });
  }

  function call(method, path, opts) {
    var token = session && session.access;
    return raw(method, path, opts, token).then(function (r) {
      if (r.status === 401 && session && r.body && r.body.error && r.body.error.code === "invalid_token") {
        return renew().then(function (s) { return raw(method, path, opts, s.access); });
      }
      return r;
    }).then(function (r) {
      if (r.status >= 200 && r.status < 300) return opts && opts.full ? r : r.body;
      if (r.status === 401 && session) ended(r.body && r.body.error ? r.body.error.code : "invalid_token");
      throw new ApiError(r.status, r.body);
    });
  }

  function signedIn(r) {
    if (r.status !== 200) throw new ApiError(r.status, r.body);
    save(Object.assign(asPair(r.body), {}));
    return call("GET", "/api/v1/users/me").then(function (me) { save(Object.assign({}, session, { user: me })); return me; });
  }

  function signIn(username, password) {
    var form = new URLSearchParams();
    form.set("username", username);
    form.set("password", password);
    return fetch("/api/v1/auth/login", { method: "POST", body: form, cache: "no-store" })
      .then(function (r) { return r.json().catch(function () { return null; }).then(function (b) { return { status: r.status, body: b }; }); },
            function () { return { status: 0, body: null }; })
      .then(signedIn);
  }

  function faceSignIn(frames, employeeCode, challengeId) {
    var fd = new FormData();
    frames.forEach(function (b, i) { fd.append("images", b, "frame" + i + ".jpg"); });
    if (employeeCode) fd.append("employee_code", employeeCode);
    if (challengeId) fd.append("challenge_id", challengeId);
    return raw("POST", "/api/v1/auth/face-login", { form: fd }).then(signedIn);
  }

  // A head-turn challenge for face login (LIVENESS_LOGIN=challenge): {challenge_id, action, expires_in}
  function faceChallenge() {
    return raw("POST", "/api/v1/auth/face-login/challenge", {}).then(function (r) {
      if (r.status !== 201) throw new ApiError(r.status, r.body);
      return r.body;
    });
  }

  function signOut() {
    var s = session;
    save(null);
    if (!s) return Promise.resolve();
    return raw("POST", "/api/v1/auth/logout", { json: { refresh_token: s.refresh } }).then(function () {});
  }

  // A file the API answers (the CSV report): fetched with the token, handed to the browser as a download.
  function download(path, query, fallbackName) {
    return call("GET", path, { query: query, blob: true, full: true }).then(function (r) {
      var cd = r.headers.get("Content-Disposition") || "", m = /filename="([^"]+)"/.exec(cd);
      var name = m ? m[1] : fallbackName, href = URL.createObjectURL(r.body);
      var a = document.createElement("a");
      a.href = href; a.download = name; a.hidden = true;
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(href); }, 10000);
      return name;
    });
  }

  // All pages of a paginated list ({items, total, limit, offset}).
  function all(path, query, pageSize) {
    var size = pageSize || 500, out = [];
    function next(offset) {
      return call("GET", path, { query: Object.assign({}, query, { limit: size, offset: offset }) }).then(function (p) {
        out = out.concat(p.items);
        return out.length < p.total && p.items.length ? next(offset + p.items.length) : out;
      });
    }
    return next(0);
  }

  schedule();
  window.FC = window.FC || {};
  window.FC.api = {
    ApiError: ApiError,
    call: call,
    get: function (path, query) { return call("GET", path, { query: query }); },
    post: function (path, json) { return call("POST", path, { json: json }); },
    patch: function (path, json) { return call("PATCH", path, { json: json }); },
    put: function (path, json) { return call("PUT", path, { json: json }); },
    del: function (path, json) { return call("DELETE", path, { json: json }); },
    postForm: function (path, form) { return call("POST", path, { form: form }); },
    all: all,
    download: download,
    signIn: signIn,
    faceSignIn: faceSignIn, faceChallenge: faceChallenge,
    signOut: signOut,
    user: function () { return session && session.user; },
    setUser: function (u) { if (session) save(Object.assign({}, session, { user: u })); },
    onEnded: function (fn) { listeners.push(fn); }
  };
})();
