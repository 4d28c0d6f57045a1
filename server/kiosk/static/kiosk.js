/* faceclock kiosk page: device key, live camera, capture (button or steady face), check in/out, offline queue.
 * Plain browser JavaScript, no build step, no third-party code. Talks to:
 *   GET  /api/v1/devices/me   (X-Device-Key)  validates the key, names the kiosk
 *   POST /api/v1/kiosk/check  (X-Device-Key)  multipart images[] + request_id (+ captured_at when replayed)
 *                                             (+ challenge_id or offline_action: the head-turn challenge,
 *                                             kiosk-liveness.js, when the device requires liveness)
 * Query parameters: ?auto=0 starts with automatic capture off; ?reset=1 forgets the stored device key;
 * ?lang=en|es sets the language (kept; /i18n/i18n.js chooses it from the browser otherwise).
 * A QR code of the console (/admin, Devices) opens /kiosk#key=<device key>: the key is saved, then removed from
 * the address (a fragment never reaches the server).
 * Every word on screen comes from the message catalogs (/i18n/en.json, /i18n/es.json, keys "kiosk.*" and
 * "error.*"); times are shown in the catalog's locale (24-hour where it is the custom).
 *
 * Offline queue: an attempt the server could not answer (no network, timeout, 502/503/504, 429) is kept in IndexedDB
 * (in memory when the browser has none: then only until the page is reloaded) and replayed in capture order with its
 * request_id and captured_at. An attempt answered with another 5xx (a server error, not an outage) is tried
 * MAX_SERVER_ERRORS times, then moved aside to the "failed" store so it cannot block the punches behind it; replays
 * the server refuses for their capture time (captured_at_too_old, ...) are moved there too. The page shows how many
 * are waiting and how many could not be recorded; tapping the latter offers to send the server-error ones again.
 * A replayed attempt's answer is never shown in the big result box (whoever stands at the door now is someone
 * else): the header says how many saved punches were sent.
 *
 * A key the server refuses (revoked or wrong, 401 invalid_device_key) while someone is checking in: that attempt
 * is kept as "not recorded" (reason invalid_device_key), the person is told to call an administrator, and the
 * kiosk locks (no set-up form for employees) until an administrator enters a key; the attempts kept for that
 * reason are then queued again and sent with their capture time.
 *
 * Automatic capture needs a steady face when the browser has the Shape Detection API (window.FaceDetector, whose
 * detect() works on the platform); otherwise it falls back to a steady, non-flat scene (frame difference), and the
 * server's quality gate refuses frames without a face (no_face is not shown for automatic attempts).
 */
(function () {
  "use strict";

  var API = "/api/v1/kiosk";
  var KEY_STORE = "faceclock.deviceKey";
  var LIVENESS_STORE = "faceclock.liveness";
  var RESULT_MS = 4000;          // how long an answer stays on screen
  var FRAMES = 2;                // frames per attempt: both must agree (the server takes up to 3); 2 keeps a
                                 // check near 60 ms on 2 cores, 3 near 90 ms (scripts/bench_kiosk.py --frames 1,2,3)
  var FRAME_GAP_MS = 120;
  var TICK_MS = 200;             // steadiness sampling period
  var MIN_CONTRAST = 10;         // a covered or dark camera (flat frame) never triggers
  var AUTO_MIN_GAP_MS = 3000;
  var REQUEST_TIMEOUT_MS = 15000;
  var RETRY_MS = 4000;
  var SENT_NOTE_MS = 8000;       // how long "n saved punches sent" stays in the header
  var MAX_SERVER_ERRORS = 3;     // 5xx answers (not outages) before an attempt is moved aside
  var LONG_TEXT = 22;            // result lines longer than this get the smaller type (no awkward wrapping)
  var REFUSED_REPLAY = ["captured_at_too_old", "captured_at_in_future", "invalid_captured_at", "liveness_failed"];
  var BAD_KEY = "invalid_device_key";

  var i18n = window.FC.i18n, T = i18n.t;
  var params = new URLSearchParams(location.search);
  var $ = function (id) { return document.getElementById(id); };
  var video = $("video"), work = $("work");
  var key = null, busy = false, showing = false, flushing = false, locked = false, autoOn = params.get("auto") !== "0";
  var lastAutoAt = 0, resultTimer = null;
  var hintKey = "kiosk.hint.look", online = null, sentCount = 0, sentTimer = null;

  // ---------------------------------------------------------------- small helpers
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  // The hint is kept as a key (plus its values) so that a language switch re-renders it.
  var hintParams = null;
  function hint(k, p) { hintKey = k; hintParams = p || null; $("hint").textContent = k ? T(k, p) : ""; }
  function hintText(text) { hintKey = null; $("hint").textContent = text; }
  function setState(s) { document.body.dataset.state = s; }
  function fmtTime(iso) { return i18n.time(iso ? new Date(iso) : new Date()); }
  function setOnline(on) {
    online = on;
    var c = $("connection");
    c.className = "conn " + (on ? "conn-online" : "conn-offline");
    c.title = T(on ? "kiosk.connection.online" : "kiosk.connection.offline");
    document.body.dataset.online = on ? "1" : "0";
  }
  function tickClock() { $("clock").textContent = i18n.timeSeconds(new Date()); }

  // ---------------------------------------------------------------- offline queue (kiosk-store.js)
  var queue = window.FC.kioskStore.queue, failed = window.FC.kioskStore.failed, backend = window.FC.kioskStore.backend;

  function refreshQueueCount() {
    return Promise.all([queue.count(), failed.count(), backend]).then(function (v) {
      var n = v[0], f = v[1];
      $("queue").textContent = T("kiosk.queue", { count: n }) + (v[2] === "memory" ? " " + T("kiosk.queue.memory") : "");
      $("queue").classList.toggle("hidden", n === 0);
      $("failed").textContent = T("kiosk.failed", { count: f });
      $("failed").classList.toggle("hidden", f === 0);
      document.body.dataset.queued = String(n);
      document.body.dataset.failed = String(f);
      document.body.dataset.queueBackend = v[2];
      return n;
    });
  }

  function reasonText(item) {
    if (REFUSED_REPLAY.indexOf(item.reason) >= 0 || item.reason === BAD_KEY) return T("kiosk.refused." + item.reason);
    if (item.reason === "server_error") return T("kiosk.refused.server_error", { detail: item.detail || "" });
    return item.reason;
  }
  function describe(item) { return fmtTime(item.captured_at) + " — " + reasonText(item); }

  // Moves a waiting attempt aside: not sent again unless someone asks (tap the "not recorded" badge), or, for a
  // refused key, until an administrator enters a valid one.
  async function moveAside(item, reason, detail) {
    await failed.add({ request_id: item.request_id, captured_at: item.captured_at, frames: item.frames,
                       offline_action: item.offline_action, reason: reason, detail: detail || "",
                       failed_at: new Date().toISOString() });
    if (item.seq !== undefined) await queue.remove(item.seq);
    await refreshQueueCount();
    console.warn("faceclock: attempt not recorded", item.request_id, item.captured_at, reason, detail || "");
  }

  function showNotRecorded(item, reason) {
    showResult("bad", { name: T("kiosk.notRecorded"), kind: T("kiosk.notRecorded.at", { time: fmtTime(item.captured_at) }),
                        time: reasonText({ reason: reason }), status: T("kiosk.callAdmin") });
    hint("kiosk.hint.notRecorded");
  }

  async function requeue(filter) {
    var items = (await failed.all()).filter(filter);
    for (var i = 0; i < items.length; i++) {
      await queue.add({ request_id: items[i].request_id, captured_at: items[i].captured_at, frames: items[i].frames,
                        offline_action: items[i].offline_action });
      await failed.remove(items[i].seq);
    }
    await refreshQueueCount();
    return items.length;
  }

  async function reviewFailed() {
    var items = await failed.all();
    if (!items.length) return;
    var resend = items.filter(function (i) { return i.reason === "server_error"; });
    var text = T("kiosk.review.title", { count: items.length }) + "\n" + items.map(describe).join("\n") + "\n\n" +
      (resend.length ? T("kiosk.review.resend", { count: resend.length }) : T("kiosk.review.clear"));
    if (!window.confirm(text)) return;
    for (var i = 0; i < items.length; i++) {
      if (items[i].reason === "server_error") {
        await queue.add({ request_id: items[i].request_id, captured_at: items[i].captured_at, frames: items[i].frames });
      }
      if (items[i].reason !== BAD_KEY) await failed.remove(items[i].seq);  // those wait for a valid key
    }
    await refreshQueueCount();
    flush();
  }

  // ---------------------------------------------------------------- server calls
  function request(path, options) {
    var ctl = new AbortController(), timer = setTimeout(function () { ctl.abort(); }, REQUEST_TIMEOUT_MS);
    options = options || {};
    options.signal = ctl.signal;
    options.cache = "no-store";
    options.headers = Object.assign({ "X-Device-Key": key || "" }, options.headers || {});
    return fetch(path, options).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (body) { return { status: r.status, body: body }; });
    }).finally(function () { clearTimeout(timer); });
  }

  function sendCheck(item, replay) {
    var fd = new FormData();
    item.frames.forEach(function (b, i) { fd.append("images", b, "frame" + i + ".jpg"); });
    fd.append("request_id", item.request_id);
    if (replay) fd.append("captured_at", item.captured_at);
    if (item.challenge_id) fd.append("challenge_id", item.challenge_id);
    if (item.offline_action) fd.append("offline_action", item.offline_action);
    return request(API + "/check", { method: "POST", body: fd });
  }

  // No answer, a timeout, an outage (502/503/504: the server or its database cannot be reached) or 429: try again
  // later, as often as needed. Other 5xx are server errors: counted against the attempt (MAX_SERVER_ERRORS).
  function outage(res) { return !res || res.status === 429 || res.status === 502 || res.status === 503 || res.status === 504; }
  function serverError(res) { return !!res && res.status >= 500 && !outage(res); }
  function retryable(res) { return outage(res) || serverError(res); }
  function errorCode(res) { return res && res.body && res.body.error ? res.body.error.code : null; }
  function badKey(res) { return !!res && res.status === 401 && errorCode(res) === BAD_KEY; }

  // ---------------------------------------------------------------- showing answers
  function line(id, text) {
    var el = $(id);
    el.textContent = text || "";
    el.classList.toggle("long", (text || "").length > LONG_TEXT);
  }
  function showResult(kind, lines) {
    var box = $("result");
    box.className = "result " + kind;
    line("result-name", lines.name); line("result-kind", lines.kind);
    line("result-time", lines.time); line("result-status", lines.status);
    showing = true;
    clearTimeout(resultTimer);
    resultTimer = setTimeout(function () {
      box.classList.add("hidden"); showing = false;
      if (!locked) hint("kiosk.hint.look");
    }, RESULT_MS);
  }

  function showAnswer(res, trigger) {
    var b = res.body || {};
    if (res.status === 200 && b.decision === "recognized" && b.punch) {
      var p = b.punch, late = p.status === "late" || p.status === "early_leave";
      showResult(late ? "late" : "ok", {
        name: (b.user && b.user.full_name) || "",
        kind: T(p.kind === "out" ? "kiosk.out" : "kiosk.in"),
        time: b.duplicate ? T("kiosk.alreadyAt", { time: fmtTime(p.at) }) : fmtTime(p.at),
        status: i18n.has("kiosk.status." + p.status) ? T("kiosk.status." + p.status) : (p.status || "")
      });
      hint("");
      return;
    }
    if (res.status === 200) {
      showResult("bad", { name: T("kiosk.unknown"), kind: T("kiosk.tryAgain") });
      hint("kiosk.hint.unknown");
      return;
    }
    var code = errorCode(res);
    if (trigger === "auto" && code === "no_face") { hint("kiosk.hint.look"); return; }  // empty scene: stay quiet
    var text = live.failureText(res) ||
      (code ? i18n.error(code, "kiosk.error.") : T("error.unknown", { code: res.status }));
    showResult("bad", { name: text });
    hintText(text);
  }

  function showQueued() {
    showResult("queued", { name: T("kiosk.saved"), kind: T("kiosk.saved.offline"), time: fmtTime(),
                           status: T("kiosk.saved.later") });
    hint("kiosk.hint.offline");
  }

  // A replayed attempt was recorded: a quiet note in the header, never the person's name on the big screen.
  function noteSent() {
    sentCount += 1;
    var el = $("sent");
    el.textContent = T("kiosk.sent", { count: sentCount });
    el.classList.remove("hidden");
    document.body.dataset.sent = String(sentCount);
    clearTimeout(sentTimer);
    sentTimer = setTimeout(function () { el.classList.add("hidden"); sentCount = 0; }, SENT_NOTE_MS);
  }

  // ---------------------------------------------------------------- capture
  function grabFrame() {
    var w = video.videoWidth || 640, h = video.videoHeight || 480;
    var c = document.createElement("canvas");
    c.width = w; c.height = h;
    c.getContext("2d").drawImage(video, 0, 0, w, h);
    return new Promise(function (resolve) { c.toBlob(resolve, "image/jpeg", 0.92); });
  }

  // The frames of one attempt: a head-turn challenge when the device requires liveness (kiosk-liveness.js).
  async function captureAttempt() {
    var item = { request_id: uuid(), captured_at: new Date().toISOString() };
    if (!live.required()) return Object.assign(item, { frames: await captureFrames() });
    var shot = await live.capture();
    return Object.assign(item, shot);
  }

  async function captureFrames() {
    var frames = [];
    for (var i = 0; i < FRAMES; i++) {
      if (i) await sleep(FRAME_GAP_MS);
      var b = await grabFrame();
      if (b) frames.push(b);
    }
    return frames;
  }

  async function attempt(trigger) {
    if (busy || !key || locked || video.readyState < 2) return;
    busy = true;
    $("check-button").disabled = true;
    setState("busy");
    try {
      hint("kiosk.hint.hold");
      watch.attempted();
      var item = await captureAttempt();
      if (!item.frames.length) { hint("kiosk.hint.cameraNotReady"); return; }
      if ((await refreshQueueCount()) > 0) {   // keep the order: this one goes behind the waiting ones
        await queue.add(live.forQueue(item));
        await refreshQueueCount();
        showQueued();
        flush();
        return;
      }
      var res = null;
      try { res = await sendCheck(item, false); } catch (e) { res = null; }
      if (retryable(res) && !(res && res.status === 429)) {
        if (serverError(res)) item.serverErrors = 1;
        await queue.add(live.forQueue(item));
        setOnline(!!res);
        await refreshQueueCount();
        showQueued();
        return;
      }
      setOnline(true);
      if (badKey(res)) {  // the person in front of the kiosk: kept as not recorded, told to call an administrator
        await moveAside(live.forQueue(item), BAD_KEY, "401 " + BAD_KEY);
        lock();
        showNotRecorded(item, BAD_KEY);
        return;
      }
      showAnswer(res, trigger);
    } finally {
      busy = false;
      $("check-button").disabled = locked;
      if (!locked) setState("ready");
    }
  }

  // Replays waiting attempts in capture order, one at a time. The server answers a request_id it has already seen
  // with the same result, so a replay whose first answer was lost never makes a second punch. An outage stops the
  // round (the next one starts in RETRY_MS); a server error counts against that attempt, and after
  // MAX_SERVER_ERRORS of them it is moved aside so the punches behind it go on. A refused key stops the round and
  // locks the kiosk: the waiting attempts stay queued until a valid key is entered.
  async function flush() {
    if (flushing || !key || locked) return;
    flushing = true;
    try {
      for (;;) {
        var item = await queue.first();
        if (!item) break;
        var res = null;
        try { res = await sendCheck(item, true); } catch (e) { res = null; }
        if (outage(res)) { setOnline(!!res && res.status === 429); break; }
        setOnline(true);
        if (serverError(res)) {
          item.serverErrors = (item.serverErrors || 0) + 1;
          var detail = res.status + (errorCode(res) ? " " + errorCode(res) : "");
          if (item.serverErrors < MAX_SERVER_ERRORS) { await queue.put(item); break; }
          await moveAside(item, "server_error", detail);  // the red badge says so; no pop-up for whoever is there now
          continue;
        }
        if (badKey(res)) { lock(); break; }
        var code = errorCode(res);
        if (res.status === 422 && REFUSED_REPLAY.indexOf(code) >= 0) {
          await moveAside(item, code, res.status + " " + code);
          continue;
        }
        await queue.remove(item.seq);
        await refreshQueueCount();
        console.info("faceclock: sent waiting attempt", item.request_id, res.status, JSON.stringify(res.body));
        if (res.status === 200) noteSent();
      }
    } finally {
      flushing = false;
      refreshQueueCount();
    }
  }

  // ---------------------------------------------------------------- automatic capture (kiosk-steady.js)
  var watch = window.FC.kioskSteady(video, work, function (contrast) {
    if (autoOn && !busy && !showing && !locked && contrast > MIN_CONTRAST && Date.now() - lastAutoAt > AUTO_MIN_GAP_MS) {
      lastAutoAt = Date.now();
      watch.fired();
      attempt("auto");
    }
  });
  function steadyMode() { return watch.mode(); }

  // ---------------------------------------------------------------- camera
  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      hint("kiosk.hint.noCameraAccess");
      return;
    }
    try {
      var stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" }, audio: false
      });
      video.srcObject = stream;
      await video.play().catch(function () {});
      if (!locked) { hint("kiosk.hint.look"); setState("ready"); }
    } catch (e) {
      hint("kiosk.hint.noCamera", { name: e.name });
      setState("no-camera");
    }
  }

  // ---------------------------------------------------------------- device key
  async function validateKey(k) {
    try {
      var r = await fetch("/api/v1/devices/me", { headers: { "X-Device-Key": k }, cache: "no-store" });
      var body = await r.json().catch(function () { return null; });
      return { ok: r.ok, status: r.status, body: body };
    } catch (e) {
      return { ok: false, status: 0, body: null };
    }
  }

  function showDevice(body) {
    $("device-name").textContent = body ? body.name + (body.site ? " · " + body.site : "") : "";
    if (body) rememberLiveness(body.liveness === "challenge");
  }

  // The device's liveness mode, kept for an offline start (then the last one the server said is used).
  var live = window.FC.kioskLiveness({ grabFrame: grabFrame, request: request, sleep: sleep, T: T, hint: hint,
                                       stage: $("stage") });
  function rememberLiveness(on) {
    live.setRequired(on);
    try { localStorage.setItem(LIVENESS_STORE, on ? "challenge" : "off"); } catch (e) { /* private mode */ }
  }
  try { live.setRequired(localStorage.getItem(LIVENESS_STORE) === "challenge"); } catch (e) { live.setRequired(false); }

  function showOnly(id) {
    ["setup", "locked", "kiosk"].forEach(function (s) { $(s).classList.toggle("hidden", s !== id); });
  }

  function showSetup(messageKey) {
    setState("setup");
    showOnly("setup");
    $("key-error").textContent = messageKey ? T(messageKey) : "";
    $("key-input").focus();
  }

  // The saved key is refused: the kiosk stops taking attempts and asks for an administrator. The key stays saved
  // (an administrator may re-enter the same one once the server knows it again, or a new one).
  function lock() {
    locked = true;
    setState("locked");
    showOnly("locked");
    $("check-button").disabled = true;
    document.body.dataset.locked = "1";
  }

  function unlock() {
    locked = false;
    document.body.dataset.locked = "0";
    $("check-button").disabled = false;
  }

  var kioskStarted = false;
  function startKiosk() {
    showOnly("kiosk");
    refreshQueueCount();
    if (video.readyState >= 2) { hint("kiosk.hint.look"); setState("ready"); }
    if (kioskStarted) return;
    kioskStarted = true;
    startCamera();
    setInterval(watch.tick, TICK_MS);
    setInterval(function () { refreshQueueCount().then(function (n) { if (n) flush(); }); }, RETRY_MS);
    window.addEventListener("online", flush);
    flush();
  }

  async function saveKey(k, body) {
    localStorage.setItem(KEY_STORE, k);
    key = k;
    unlock();
    showDevice(body);
    setOnline(true);
    await requeue(function (i) { return i.reason === BAD_KEY; });  // kept while the key was refused: send them now
    startKiosk();
  }

  $("key-form").addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var k = $("key-input").value.trim();
    if (!k) return;
    $("key-submit").disabled = true;
    $("key-error").textContent = T("kiosk.setup.checking");
    var v = await validateKey(k);
    $("key-submit").disabled = false;
    if (v.ok) {
      $("key-input").value = "";
      $("key-error").textContent = "";
      await saveKey(k, v.body);
    } else if (v.status === 0 || v.status >= 500) {
      $("key-error").textContent = T("kiosk.setup.unreachable");
    } else {
      $("key-error").textContent = T("kiosk.setup.refused");
    }
  });

  $("check-button").addEventListener("click", function () { attempt("button"); });
  $("auto-toggle").checked = autoOn;
  $("auto-toggle").addEventListener("change", function (ev) { autoOn = ev.target.checked; });
  $("change-key").addEventListener("click", function (ev) { ev.preventDefault(); showSetup(""); });
  $("admin-key").addEventListener("click", function () { showSetup("kiosk.setup.refusedSaved"); });
  $("failed").addEventListener("click", reviewFailed);

  // A key handed over in the address (the console's QR code: /kiosk#key=...): taken, then removed from the address.
  function keyFromAddress() {
    var m = /(?:^#|&)key=([^&]+)/.exec(location.hash || "");
    if (!m) return null;
    history.replaceState(null, "", location.pathname + location.search);
    return decodeURIComponent(m[1]);
  }

  async function start() {
    tickClock();
    setInterval(tickClock, 1000);
    if (params.get("reset") === "1") localStorage.removeItem(KEY_STORE);
    var given = keyFromAddress();
    if (given) {
      var g = await validateKey(given);
      if (g.ok) return saveKey(given, g.body);
      showSetup(g.status === 0 || g.status >= 500 ? "kiosk.setup.unreachable" : "kiosk.setup.refused");
      return;
    }
    key = localStorage.getItem(KEY_STORE);
    if (!key) return showSetup("");
    var v = await validateKey(key);
    if (v.ok) { showDevice(v.body); setOnline(true); }
    else if (v.status === 401) { setOnline(true); return lock(); }
    else setOnline(false);  // unreachable: keep working, attempts are queued
    startKiosk();
  }

  // A language switch re-renders what is on screen now.
  i18n.onChange(function () {
    if (hintKey !== null) hint(hintKey, hintParams);
    if (online !== null) setOnline(online);
    refreshQueueCount();
    tickClock();
  });

  // For the page's own tests and for whoever debugs a kiosk from the browser console.
  function summary(items) {
    return items.map(function (i) {
      return { request_id: i.request_id, captured_at: i.captured_at, serverErrors: i.serverErrors || 0,
               reason: i.reason, detail: i.detail, offline_action: i.offline_action || null,
               challenge_id: i.challenge_id || null };
    });
  }
  window.faceclockKiosk = {
    attempt: attempt, flush: flush, queueCount: refreshQueueCount, steadyMode: steadyMode,
    backend: function () { return backend; },
    waiting: function () { return queue.all().then(summary); },
    failed: function () { return failed.all().then(summary); }
  };
  i18n.ready.then(start);
})();
