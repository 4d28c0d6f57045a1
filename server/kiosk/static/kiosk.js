/* faceclock kiosk page: device key, live camera, capture (button or steady face), check in/out, offline queue.
 * Plain browser JavaScript, no build step, no third-party code. Talks to:
 *   GET  /api/v1/devices/me   (X-Device-Key)  validates the key, names the kiosk
 *   POST /api/v1/kiosk/check  (X-Device-Key)  multipart images[] + request_id (+ captured_at when replayed)
 * Query parameters: ?auto=0 starts with automatic capture off; ?reset=1 forgets the stored device key.
 *
 * Offline queue: an attempt the server could not answer (no network, timeout, 502/503/504, 429) is kept in IndexedDB
 * (in memory when the browser has none: then only until the page is reloaded) and replayed in capture order with its
 * request_id and captured_at. An attempt answered with another 5xx (a server error, not an outage) is tried
 * MAX_SERVER_ERRORS times, then moved aside to the "failed" store so it cannot block the punches behind it; replays
 * the server refuses for their capture time (captured_at_too_old, ...) are moved there too. The page shows how many
 * are waiting and how many could not be recorded; tapping the latter offers to send the server-error ones again.
 *
 * Automatic capture needs a steady face when the browser has the Shape Detection API (window.FaceDetector, whose
 * detect() works on the platform); otherwise it falls back to a steady, non-flat scene (frame difference), and the
 * server's quality gate refuses frames without a face (no_face is not shown for automatic attempts).
 */
(function () {
  "use strict";

  var API = "/api/v1/kiosk";
  var KEY_STORE = "faceclock.deviceKey";
  var RESULT_MS = 4000;          // how long an answer stays on screen
  var FRAMES = 2;                // frames per attempt: both must agree (the server takes up to 3); 2 keeps a
                                 // check near 60 ms on 2 cores, 3 near 90 ms (scripts/bench_kiosk.py --frames 1,2,3)
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
  var MAX_SERVER_ERRORS = 3;     // 5xx answers (not outages) before an attempt is moved aside
  var FACE_MOVE = 0.04;          // steady face: its box centre moves less than this fraction of the frame per tick
  var FACE_RESIZE = 0.12;        // ... and its width changes less than this fraction
  var REFUSED_REPLAY = { captured_at_too_old: "taken too long ago for the server to accept",
                         captured_at_in_future: "the kiosk clock was ahead of the server",
                         invalid_captured_at: "its capture time was not accepted" };

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
  // Two stores with the same interface (add, first, all, put, remove, count → Promises of plain values):
  // "queue" (waiting, in capture order) and "failed" (moved aside, with a reason).
  function memoryStore() {
    var items = [], seq = 1;
    return {
      add: function (item) { item.seq = seq++; items.push(item); return Promise.resolve(item.seq); },
      first: function () { return Promise.resolve(items.length ? items[0] : null); },
      all: function () { return Promise.resolve(items.slice()); },
      put: function (item) {
        items = items.map(function (i) { return i.seq === item.seq ? item : i; });
        return Promise.resolve(item.seq);
      },
      remove: function (s) { items = items.filter(function (i) { return i.seq !== s; }); return Promise.resolve(); },
      count: function () { return Promise.resolve(items.length); }
    };
  }

  function openDatabase() {
    return new Promise(function (resolve) {
      var idb = null;
      try { idb = window.indexedDB; } catch (e) { idb = null; }
      if (!idb) return resolve(null);
      var r;
      try { r = idb.open("faceclock-kiosk", 2); } catch (e) { return resolve(null); }
      r.onupgradeneeded = function () {
        var db = r.result;
        ["queue", "failed"].forEach(function (name) {
          if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { keyPath: "seq", autoIncrement: true });
        });
      };
      r.onsuccess = function () { resolve(r.result); };
      r.onerror = r.onblocked = function () { resolve(null); };
    });
  }

  var dbp = openDatabase();
  function store(name) {
    var mem = memoryStore();
    function op(mode, idbFn, memFn) {
      return dbp.then(function (db) {
        if (!db) return memFn();
        return new Promise(function (resolve, reject) {
          var t = db.transaction(name, mode), r = idbFn(t.objectStore(name));
          t.oncomplete = function () { resolve(r.result); };
          t.onerror = t.onabort = function () { reject(t.error); };
        });
      });
    }
    return {
      add: function (item) { return op("readwrite", function (s) { return s.add(item); }, function () { return mem.add(item); }); },
      first: function () {
        return op("readonly", function (s) { return s.getAll(null, 1); }, function () { return mem.all(); })
          .then(function (a) { return a && a.length ? a[0] : null; });
      },
      all: function () { return op("readonly", function (s) { return s.getAll(); }, function () { return mem.all(); }); },
      put: function (item) { return op("readwrite", function (s) { return s.put(item); }, function () { return mem.put(item); }); },
      remove: function (seq) { return op("readwrite", function (s) { return s.delete(seq); }, function () { return mem.remove(seq); }); },
      count: function () { return op("readonly", function (s) { return s.count(); }, function () { return mem.count(); }); }
    };
  }
  var queue = store("queue"), failed = store("failed");
  var backend = dbp.then(function (db) { return db ? "indexeddb" : "memory"; });

  function refreshQueueCount() {
    return Promise.all([queue.count(), failed.count(), backend]).then(function (v) {
      var n = v[0], f = v[1];
      $("queue-count").textContent = String(n);
      $("queue-note").textContent = v[2] === "memory" ? " (kept until this page is reloaded)" : "";
      $("queue").classList.toggle("hidden", n === 0);
      $("failed-count").textContent = String(f);
      $("failed").classList.toggle("hidden", f === 0);
      document.body.dataset.queued = String(n);
      document.body.dataset.failed = String(f);
      document.body.dataset.queueBackend = v[2];
      return n;
    });
  }

  function describe(item) {
    return fmtTime(item.captured_at) + " — " + (REFUSED_REPLAY[item.reason] ||
      (item.reason === "server_error" ? "server error " + (item.detail || "") : item.reason));
  }

  // Moves a waiting attempt aside: it will not be sent again unless someone asks (tap the "not recorded" badge).
  async function moveAside(item, reason, detail) {
    await failed.add({ request_id: item.request_id, captured_at: item.captured_at, frames: item.frames,
                       reason: reason, detail: detail || "", failed_at: new Date().toISOString() });
    await queue.remove(item.seq);
    await refreshQueueCount();
    console.warn("faceclock: attempt not recorded", item.request_id, item.captured_at, reason, detail || "");
    showResult("bad", { name: "Not recorded", kind: "the punch taken at " + fmtTime(item.captured_at),
                        time: REFUSED_REPLAY[reason] || "the server could not record it", status: "tell an administrator" });
    hint("A waiting punch could not be recorded");
  }

  async function reviewFailed() {
    var items = await failed.all();
    if (!items.length) return;
    var resend = items.filter(function (i) { return i.reason === "server_error"; });
    var text = items.length + " attempt(s) could not be recorded:\n" + items.map(describe).join("\n") +
      (resend.length ? "\n\nOK: send the " + resend.length + " server-error one(s) again and clear this list."
                     : "\n\nOK: clear this list.");
    if (!window.confirm(text)) return;
    for (var i = 0; i < items.length; i++) {
      if (items[i].reason === "server_error") {
        await queue.add({ request_id: items[i].request_id, captured_at: items[i].captured_at, frames: items[i].frames });
      }
      await failed.remove(items[i].seq);
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
    return request(API + "/check", { method: "POST", body: fd });
  }

  // No answer, a timeout, an outage (502/503/504: the server or its database cannot be reached) or 429: try again
  // later, as often as needed. Other 5xx are server errors: counted against the attempt (MAX_SERVER_ERRORS).
  function outage(res) { return !res || res.status === 429 || res.status === 502 || res.status === 503 || res.status === 504; }
  function serverError(res) { return !!res && res.status >= 500 && !outage(res); }
  function retryable(res) { return outage(res) || serverError(res); }

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
        if (serverError(res)) item.serverErrors = 1;
        await queue.add(item);
        setOnline(!!res);
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
  // with the same result, so a replay whose first answer was lost never makes a second punch. An outage stops the
  // round (the next one starts in RETRY_MS); a server error counts against that attempt, and after
  // MAX_SERVER_ERRORS of them it is moved aside so the punches behind it go on.
  async function flush() {
    if (flushing || !key) return;
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
          await moveAside(item, "server_error", detail);
          continue;
        }
        if (res.status === 401 && errorCode(res) === "invalid_device_key") { forgetKey(PLAIN.invalid_device_key); break; }
        var code = errorCode(res);
        if (res.status === 422 && REFUSED_REPLAY[code]) { await moveAside(item, code, res.status + " " + code); continue; }
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
  // Steady face (Shape Detection API) when the browser has a working FaceDetector; else a steady scene.
  var faceDetector = null, detecting = false, prevFace = null, faceGoneSinceAttempt = true;
  if (typeof window.FaceDetector === "function") {
    try { faceDetector = new window.FaceDetector({ fastMode: true, maxDetectedFaces: 3 }); } catch (e) { faceDetector = null; }
  }
  function steadyMode() { return faceDetector ? "face" : "scene"; }

  function largest(faces) {
    var best = null;
    faces.forEach(function (f) {
      var b = f.boundingBox;
      if (!best || b.width * b.height > best.width * best.height) best = b;
    });
    return best;
  }
  function faceSteady(a, b) {
    if (!a || !b) return false;
    var w = video.videoWidth || 640, h = video.videoHeight || 480;
    var dx = (a.x + a.width / 2 - b.x - b.width / 2) / w, dy = (a.y + a.height / 2 - b.y - b.height / 2) / h;
    return Math.sqrt(dx * dx + dy * dy) < FACE_MOVE && Math.abs(a.width - b.width) / Math.max(1, b.width) < FACE_RESIZE;
  }

  function maybeAuto(g, armed) {
    if (autoOn && armed && steady >= STEADY_TICKS && !busy && !showing && contrast(g) > MIN_CONTRAST &&
        Date.now() - lastAutoAt > AUTO_MIN_GAP_MS) {
      lastAutoAt = Date.now();
      faceGoneSinceAttempt = false;
      attempt("auto");
    }
  }

  function tick() {
    var g = sample();
    if (!g) return;
    var sceneSteady = prev && meanDiff(g, prev) < MOTION;
    prev = g;
    current = g;
    var sceneChanged = !lastAttemptSig || meanDiff(g, lastAttemptSig) > CHANGE;
    if (!faceDetector) {
      steady = sceneSteady ? steady + 1 : 0;
      maybeAuto(g, sceneChanged);
      return;
    }
    if (detecting) return;
    detecting = true;
    faceDetector.detect(video).then(function (faces) {
      var box = faces && faces.length ? largest(faces) : null;
      if (!box) faceGoneSinceAttempt = true;
      steady = box && faceSteady(box, prevFace) ? steady + 1 : 0;
      prevFace = box;
      maybeAuto(g, faceGoneSinceAttempt || sceneChanged);
    }, function (e) {  // the API exists but this platform has no face detection: fall back to the scene heuristic
      console.info("faceclock: FaceDetector unavailable (" + (e && e.name) + "): steady scene instead");
      faceDetector = null;
      document.body.dataset.steady = steadyMode();
    }).finally(function () { detecting = false; });
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

  $("failed").addEventListener("click", reviewFailed);
  document.body.dataset.steady = steadyMode();

  // For the page's own tests and for whoever debugs a kiosk from the browser console.
  function summary(items) {
    return items.map(function (i) {
      return { request_id: i.request_id, captured_at: i.captured_at, serverErrors: i.serverErrors || 0,
               reason: i.reason, detail: i.detail };
    });
  }
  window.faceclockKiosk = {
    attempt: attempt, flush: flush, queueCount: refreshQueueCount, steadyMode: steadyMode,
    backend: function () { return backend; },
    waiting: function () { return queue.all().then(summary); },
    failed: function () { return failed.all().then(summary); }
  };
  start();
})();
