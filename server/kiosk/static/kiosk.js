/* faceclock kiosk page: device key, live camera, capture (button or steady face), check in/out, offline queue.
 * Plain browser JavaScript, no build step, no third-party code. Talks to:
 *   GET  /api/v1/devices/me   (X-Device-Key)  validates the key, names the kiosk
 *   POST /api/v1/kiosk/check  (X-Device-Key)  multipart images[] + request_id (+ captured_at when replayed)
 * Query parameters: ?auto=0 starts with automatic capture off; ?reset=1 forgets the stored device key.
 */
(function () {
  "use strict";

  var API = "/api/v1/kiosk";
  var KEY_STORE = "faceclock.deviceKey";
  var RESULT_MS = 4000;          // how long an answer stays on screen
  var FRAMES = 3;                // frames per attempt
  var FRAME_GAP_MS = 120;
  var TICK_MS = 200;             // steadiness sampling period
  var STEADY_TICKS = 5;          // ~1 s without movement
  var MOTION = 6;                // mean |difference| (0-255) of consecutive 64x48 frames above which the scene moves
  var CHANGE = 12;               // the scene must differ this much from the last attempt's to re-arm auto capture
  var MIN_CONTRAST = 10;         // a covered or dark camera (flat frame) never triggers
  var AUTO_MIN_GAP_MS = 3000;
  var REQUEST_TIMEOUT_MS = 15000;
  var RETRY_MS = 4000;
  var SHOW_REPLAYED_WITHIN_MS = 60000;

  var PLAIN = {
    no_face: "No face found — look at the camera",
    multiple_faces: "Only one person please",
    face_too_small: "Move closer",
    face_too_dark: "More light please",
    face_blurry: "Hold still",
    face_low_confidence: "Face not clear — look straight at the camera",
    invalid_image: "Camera picture unreadable — try again",
    image_too_large: "Camera picture too large — check the camera settings",
    too_many_attempts: "Too many attempts — wait a moment",
    invalid_device_key: "This kiosk's key is not valid any more",
    validation_error: "Could not send the picture — try again",
    model_weights_missing: "Face recognition is not available on the server"
  };
  var STATUS = { on_time: "On time", late: "Late", early_leave: "Early leave", overtime: "Overtime", off_shift: "Off shift" };

  var params = new URLSearchParams(location.search);
  var $ = function (id) { return document.getElementById(id); };
  var video = $("video"), work = $("work");
  var wctx = work.getContext("2d", { willReadFrequently: true });
  var key = null, busy = false, showing = false, flushing = false, autoOn = params.get("auto") !== "0";
  var prev = null, steady = 0, current = null, lastAttemptSig = null, lastAutoAt = 0, resultTimer = null;

  // ---------------------------------------------------------------- small helpers
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function hint(text) { $("hint").textContent = text; }
  function setState(s) { document.body.dataset.state = s; }
  function fmtTime(iso) {
    var d = iso ? new Date(iso) : new Date();
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  function setOnline(on) {
    var c = $("connection");
    c.className = "conn " + (on ? "conn-online" : "conn-offline");
    c.title = on ? "server reachable" : "server unreachable: attempts are kept and sent later";
    document.body.dataset.online = on ? "1" : "0";
  }
  function tickClock() { $("clock").textContent = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }); }

  // ---------------------------------------------------------------- offline queue (IndexedDB, in-memory fallback)
  var queue = (function () {
    var memory = [], memSeq = 1;
    var dbp = new Promise(function (resolve) {
      if (!window.indexedDB) return resolve(null);
      var r = indexedDB.open("faceclock-kiosk", 1);
      r.onupgradeneeded = function () { r.result.createObjectStore("queue", { keyPath: "seq", autoIncrement: true }); };
      r.onsuccess = function () { resolve(r.result); };
      r.onerror = function () { resolve(null); };
    });
    function op(mode, fn) {
      return dbp.then(function (db) {
        if (!db) return fn(null);
        return new Promise(function (resolve, reject) {
          var t = db.transaction("queue", mode), r = fn(t.objectStore("queue"));
          t.oncomplete = function () { resolve(r ? r.result : undefined); };
          t.onerror = t.onabort = function () { reject(t.error); };
        });
      });
    }
    return {
      add: function (item) {
        return op("readwrite", function (s) {
          if (!s) { item.seq = memSeq++; memory.push(item); return null; }
          return s.add(item);
        });
      },
      first: function () {
        return op("readonly", function (s) { return s ? s.getAll(null, 1) : { result: memory.slice(0, 1) }; })
          .then(function (a) { return a && a.length ? a[0] : null; });
      },
      remove: function (seq) {
        return op("readwrite", function (s) {
          if (!s) { memory = memory.filter(function (i) { return i.seq !== seq; }); return null; }
          return s.delete(seq);
        });
      },
      count: function () { return op("readonly", function (s) { return s ? s.count() : { result: memory.length }; }); }
    };
  })();

  function refreshQueueCount() {
    return queue.count().then(function (n) {
      $("queue-count").textContent = String(n);
      $("queue").classList.toggle("hidden", n === 0);
      document.body.dataset.queued = String(n);
      return n;
    });
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
    return request(API + "/check", { method: "POST", body: fd });
  }

  // A network error, a timeout or a 5xx means "try again later": the attempt is kept.
  function retryable(res) { return !res || res.status >= 500 || res.status === 429; }

  // ---------------------------------------------------------------- showing answers
  function showResult(kind, lines) {
    var box = $("result");
    box.className = "result " + kind;
    $("result-name").textContent = lines.name || "";
    $("result-kind").textContent = lines.kind || "";
    $("result-time").textContent = lines.time || "";
    $("result-status").textContent = lines.status || "";
    showing = true;
    clearTimeout(resultTimer);
    resultTimer = setTimeout(function () { box.classList.add("hidden"); showing = false; hint("Look at the camera"); }, RESULT_MS);
  }

  function errorCode(res) { return res && res.body && res.body.error ? res.body.error.code : null; }

  function showAnswer(res, trigger) {
    var b = res.body || {};
    if (res.status === 200 && b.decision === "recognized" && b.punch) {
      var p = b.punch, late = p.status === "late" || p.status === "early_leave";
      showResult(late ? "late" : "ok", {
        name: (b.user && b.user.full_name) || "",
        kind: p.kind === "out" ? "OUT — goodbye" : "IN — welcome",
        time: (b.duplicate ? "already recorded at " : "") + fmtTime(p.at),
        status: STATUS[p.status] || p.status || ""
      });
      hint("");
      return;
    }
    if (res.status === 200) {
      showResult("bad", { name: "Not recognized", kind: "try again" });
      hint("Not recognized — try again");
      return;
    }
    var code = errorCode(res);
    if (res.status === 401 && code === "invalid_device_key") { forgetKey(PLAIN.invalid_device_key); return; }
    if (trigger === "auto" && code === "no_face") { hint("Look at the camera"); return; }  // empty scene: stay quiet
    var text = PLAIN[code] || ("Something went wrong (" + (code || res.status) + ") — try again");
    showResult("bad", { name: text });
    hint(text);
  }

  function showQueued() {
    showResult("queued", { name: "Saved", kind: "the server cannot be reached", time: fmtTime(), status: "it will be sent automatically" });
    hint("Offline — attempts are kept and sent later");
  }

  // ---------------------------------------------------------------- capture
  function grabFrame() {
    var w = video.videoWidth || 640, h = video.videoHeight || 480;
    var c = document.createElement("canvas");
    c.width = w; c.height = h;
    c.getContext("2d").drawImage(video, 0, 0, w, h);
    return new Promise(function (resolve) { c.toBlob(resolve, "image/jpeg", 0.92); });
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
    if (busy || !key || video.readyState < 2) return;
    busy = true;
    $("check-button").disabled = true;
    setState("busy");
    try {
      hint("Hold still…");
      lastAttemptSig = current;
      var frames = await captureFrames();
      if (!frames.length) { hint("Camera not ready — try again"); return; }
      var item = { request_id: uuid(), captured_at: new Date().toISOString(), frames: frames };
      if ((await refreshQueueCount()) > 0) {   // keep the order: this one goes behind the waiting ones
        await queue.add(item);
        await refreshQueueCount();
        showQueued();
        flush();
        return;
      }
      var res = null;
      try { res = await sendCheck(item, false); } catch (e) { res = null; }
      if (retryable(res) && !(res && res.status === 429)) {
        await queue.add(item);
        setOnline(false);
        await refreshQueueCount();
        showQueued();
        return;
      }
      setOnline(true);
      showAnswer(res, trigger);
    } finally {
      busy = false;
      $("check-button").disabled = false;
      setState("ready");
    }
  }

  // Replays waiting attempts in capture order, one at a time. The server answers a request_id it has already seen
  // with the same result, so a replay whose first answer was lost never makes a second punch.
  async function flush() {
    if (flushing || !key) return;
    flushing = true;
    try {
      for (;;) {
        var item = await queue.first();
        if (!item) break;
        var res = null;
        try { res = await sendCheck(item, true); } catch (e) { res = null; }
        if (retryable(res)) { setOnline(!!res && res.status < 500); break; }
        setOnline(true);
        if (res.status === 401 && errorCode(res) === "invalid_device_key") { forgetKey(PLAIN.invalid_device_key); break; }
        await queue.remove(item.seq);
        await refreshQueueCount();
        console.info("faceclock: sent waiting attempt", item.request_id, res.status, JSON.stringify(res.body));
        if (Date.now() - Date.parse(item.captured_at) < SHOW_REPLAYED_WITHIN_MS) showAnswer(res, "replay");
      }
    } finally {
      flushing = false;
      refreshQueueCount();
    }
  }

  // ---------------------------------------------------------------- steadiness (frame difference on a 64x48 gray copy)
  function sample() {
    if (video.readyState < 2) return null;
    wctx.drawImage(video, 0, 0, work.width, work.height);
    var d = wctx.getImageData(0, 0, work.width, work.height).data, g = new Uint8Array(work.width * work.height);
    for (var i = 0, j = 0; j < g.length; i += 4, j++) g[j] = (d[i] * 77 + d[i + 1] * 150 + d[i + 2] * 29) >> 8;
    return g;
  }
  function meanDiff(a, b) { var s = 0; for (var i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]); return s / a.length; }
  function contrast(g) {
    var s = 0, s2 = 0;
    for (var i = 0; i < g.length; i++) { s += g[i]; s2 += g[i] * g[i]; }
    var m = s / g.length;
    return Math.sqrt(Math.max(0, s2 / g.length - m * m));
  }
  function tick() {
    var g = sample();
    if (!g) return;
    steady = prev && meanDiff(g, prev) < MOTION ? steady + 1 : 0;
    prev = g;
    current = g;
    var armed = !lastAttemptSig || meanDiff(g, lastAttemptSig) > CHANGE;
    if (autoOn && armed && steady >= STEADY_TICKS && !busy && !showing && contrast(g) > MIN_CONTRAST &&
        Date.now() - lastAutoAt > AUTO_MIN_GAP_MS) {
      lastAutoAt = Date.now();
      attempt("auto");
    }
  }

  // ---------------------------------------------------------------- camera
  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      hint("No camera access: open this page over HTTPS (or on localhost)");
      return;
    }
    try {
      var stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" }, audio: false
      });
      video.srcObject = stream;
      await video.play().catch(function () {});
      hint("Look at the camera");
      setState("ready");
    } catch (e) {
      hint("Camera not available (" + e.name + ")");
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
    var d = body;
    $("device-name").textContent = d ? d.name + (d.site ? " · " + d.site : "") : "";
  }

  function showSetup(message) {
    setState("setup");
    $("kiosk").classList.add("hidden");
    $("setup").classList.remove("hidden");
    $("key-error").textContent = message || "";
    $("key-input").focus();
  }

  function forgetKey(message) {
    localStorage.removeItem(KEY_STORE);
    key = null;
    showSetup(message);
  }

  var kioskStarted = false;
  function startKiosk() {
    $("setup").classList.add("hidden");
    $("kiosk").classList.remove("hidden");
    refreshQueueCount();
    if (kioskStarted) return;
    kioskStarted = true;
    startCamera();
    setInterval(tick, TICK_MS);
    setInterval(function () { refreshQueueCount().then(function (n) { if (n) flush(); }); }, RETRY_MS);
    window.addEventListener("online", flush);
    flush();
  }

  $("key-form").addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var k = $("key-input").value.trim();
    if (!k) return;
    $("key-submit").disabled = true;
    $("key-error").textContent = "Checking…";
    var v = await validateKey(k);
    $("key-submit").disabled = false;
    if (v.ok) {
      localStorage.setItem(KEY_STORE, k);
      key = k;
      $("key-input").value = "";
      $("key-error").textContent = "";
      showDevice(v.body);
      setOnline(true);
      startKiosk();
    } else if (v.status === 0 || v.status >= 500) {
      $("key-error").textContent = "The server cannot be reached — check the network and try again";
    } else {
      $("key-error").textContent = "This key was not accepted — check it with an administrator";
    }
  });

  $("check-button").addEventListener("click", function () { attempt("button"); });
  $("auto-toggle").checked = autoOn;
  $("auto-toggle").addEventListener("change", function (ev) { autoOn = ev.target.checked; });
  $("change-key").addEventListener("click", function (ev) { ev.preventDefault(); forgetKey(""); });

  async function start() {
    tickClock();
    setInterval(tickClock, 1000);
    if (params.get("reset") === "1") localStorage.removeItem(KEY_STORE);
    key = localStorage.getItem(KEY_STORE);
    if (!key) return showSetup("");
    var v = await validateKey(key);
    if (v.ok) { showDevice(v.body); setOnline(true); }
    else if (v.status === 401) return forgetKey("The saved key is not valid any more: enter a new one");
    else setOnline(false);  // unreachable: keep working, attempts are queued
    startKiosk();
  }

  window.faceclockKiosk = { attempt: attempt, flush: flush, queueCount: refreshQueueCount };
  start();
})();
