/* faceclock kiosk: when to capture by itself. Samples the camera every tick on a 64x48 gray copy; "steady" is a
 * face whose box barely moves (Shape Detection API: window.FaceDetector, when its detect() works on the platform)
 * or, without one, a scene whose frames barely differ. After an attempt, automatic capture re-arms only when the
 * face left the picture or the scene changed enough. Used by kiosk.js:
 *   var watch = FC.kioskSteady(video, canvas, function (contrast) { ...steady and armed: maybe attempt... });
 *   setInterval(watch.tick, 200); watch.attempted() on every attempt; watch.fired() on an automatic one.
 */
(function () {
  "use strict";

  var STEADY_TICKS = 5;          // ~1 s without movement
  var MOTION = 6;                // mean |difference| (0-255) of consecutive 64x48 frames above which the scene moves
  var CHANGE = 12;               // the scene must differ this much from the last attempt's to re-arm auto capture
  var FACE_MOVE = 0.04;          // steady face: its box centre moves less than this fraction of the frame per tick
  var FACE_RESIZE = 0.12;        // ... and its width changes less than this fraction

  function meanDiff(a, b) { var s = 0; for (var i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]); return s / a.length; }
  function contrast(g) {
    var s = 0, s2 = 0;
    for (var i = 0; i < g.length; i++) { s += g[i]; s2 += g[i] * g[i]; }
    var m = s / g.length;
    return Math.sqrt(Math.max(0, s2 / g.length - m * m));
  }
  function largest(faces) {
    var best = null;
    faces.forEach(function (f) {
      var b = f.boundingBox;
      if (!best || b.width * b.height > best.width * best.height) best = b;
    });
    return best;
  }

  function create(video, work, onSteady) {
    var wctx = work.getContext("2d", { willReadFrequently: true });
    var prev = null, steady = 0, current = null, lastAttemptSig = null;
    var faceDetector = null, detecting = false, prevFace = null, faceGoneSinceAttempt = true;
    if (typeof window.FaceDetector === "function") {
      try { faceDetector = new window.FaceDetector({ fastMode: true, maxDetectedFaces: 3 }); } catch (e) { faceDetector = null; }
    }
    function mode() { return faceDetector ? "face" : "scene"; }
    document.body.dataset.steady = mode();

    function sample() {
      if (video.readyState < 2) return null;
      wctx.drawImage(video, 0, 0, work.width, work.height);
      var d = wctx.getImageData(0, 0, work.width, work.height).data, g = new Uint8Array(work.width * work.height);
      for (var i = 0, j = 0; j < g.length; i += 4, j++) g[j] = (d[i] * 77 + d[i + 1] * 150 + d[i + 2] * 29) >> 8;
      return g;
    }
    function faceSteady(a, b) {
      if (!a || !b) return false;
      var w = video.videoWidth || 640, h = video.videoHeight || 480;
      var dx = (a.x + a.width / 2 - b.x - b.width / 2) / w, dy = (a.y + a.height / 2 - b.y - b.height / 2) / h;
      return Math.sqrt(dx * dx + dy * dy) < FACE_MOVE && Math.abs(a.width - b.width) / Math.max(1, b.width) < FACE_RESIZE;
    }
    function maybe(g, armed) { if (armed && steady >= STEADY_TICKS) onSteady(contrast(g)); }

    function tick() {
      var g = sample();
      if (!g) return;
      var sceneSteady = prev && meanDiff(g, prev) < MOTION;
      prev = g;
      current = g;
      var sceneChanged = !lastAttemptSig || meanDiff(g, lastAttemptSig) > CHANGE;
      if (!faceDetector) {
        steady = sceneSteady ? steady + 1 : 0;
        maybe(g, sceneChanged);
        return;
      }
      if (detecting) return;
      detecting = true;
      faceDetector.detect(video).then(function (faces) {
        var box = faces && faces.length ? largest(faces) : null;
        if (!box) faceGoneSinceAttempt = true;
        steady = box && faceSteady(box, prevFace) ? steady + 1 : 0;
        prevFace = box;
        maybe(g, faceGoneSinceAttempt || sceneChanged);
      }, function (e) {  // the API exists but this platform has no face detection: fall back to the scene heuristic
        console.info("faceclock: FaceDetector unavailable (" + (e && e.name) + "): steady scene instead");
        faceDetector = null;
        document.body.dataset.steady = mode();
      }).finally(function () { detecting = false; });
    }

    return {
      tick: tick,
      mode: mode,
      attempted: function () { lastAttemptSig = current; },
      fired: function () { faceGoneSinceAttempt = false; }
    };
  }

  window.FC = window.FC || {};
  window.FC.kioskSteady = create;
})();
