/* faceclock kiosk: the head-turn challenge (docs/liveness.md). Plain browser JavaScript, no build step.
 *
 * When the kiosk's device requires liveness (GET /api/v1/devices/me → liveness: "challenge"), an attempt is:
 *   1. POST /api/v1/kiosk/challenge → {challenge_id, action: turn_left | turn_right, expires_in};
 *   2. one frame while the person still looks at the camera, then a large arrow and the words ("turn your head
 *      slightly to the left"), and FRAMES - 1 more frames over about CAPTURE_MS (1.5 s);
 *   3. the check is sent with challenge_id; a refusal is said plainly ("please turn your head", "wrong way", ...).
 * Offline (the challenge cannot be fetched): the page draws the action itself (crypto.getRandomValues), shows it the
 * same way and queues the frames with `offline_action`; on replay the server verifies the same geometry and marks the
 * punch `liveness: offline` for the manager to see. An attempt captured for a server challenge that then could not be
 * sent is queued the same way (its challenge would have expired by the time it is replayed). Never a silent skip.
 *
 * FC.kioskLiveness(deps) → {setRequired(bool), required(), capture() → {frames, challenge_id | offline_action},
 * forQueue(item), failureText(res) → text | null}. deps: {grabFrame, request, sleep, T, hint(key), stage}.
 */
(function () {
  "use strict";

  var FRAMES = 4;            // 1 looking at the camera + 3 while turning (the server takes 2-5)
  var CAPTURE_MS = 1500;     // the turning frames are spread over this long
  var REACT_MS = 350;        // time to read the arrow before the first turning frame
  var ARROWS = { turn_left: "\u2190", turn_right: "\u2192" };  // the person's own left is the screen's left

  function randomAction() {
    var b = new Uint8Array(1);
    crypto.getRandomValues(b);
    return b[0] & 1 ? "turn_left" : "turn_right";
  }

  function overlay(stage) {
    var box = document.createElement("div");
    box.id = "challenge";
    box.className = "challenge hidden";
    box.setAttribute("role", "status");
    box.setAttribute("aria-live", "assertive");
    var arrow = document.createElement("div");
    arrow.id = "challenge-arrow";
    arrow.className = "challenge-arrow";
    var words = document.createElement("div");
    words.id = "challenge-words";
    words.className = "challenge-words";
    box.appendChild(arrow);
    box.appendChild(words);
    stage.appendChild(box);
    return { box: box, arrow: arrow, words: words };
  }

  window.FC = window.FC || {};
  window.FC.kioskLiveness = function (deps) {
    var needed = false, ui = overlay(deps.stage);

    function show(action) {
      ui.arrow.textContent = ARROWS[action];
      ui.words.textContent = deps.T("kiosk.liveness." + action);
      ui.box.classList.remove("hidden");
      deps.hint("kiosk.liveness." + action);
      document.body.dataset.challenge = action;
    }
    function hide() {
      ui.box.classList.add("hidden");
      delete document.body.dataset.challenge;
    }

    async function fetchChallenge() {
      var res = null;
      try { res = await deps.request("/api/v1/kiosk/challenge", { method: "POST" }); } catch (e) { res = null; }
      return res && res.status === 201 && res.body ? res.body : null;
    }

    async function frames(action) {
      deps.hint("kiosk.hint.look");
      var out = [], first = await deps.grabFrame();
      if (first) out.push(first);
      show(action);
      try {
        await deps.sleep(REACT_MS);
        var gap = (CAPTURE_MS - REACT_MS) / (FRAMES - 2);
        for (var i = 1; i < FRAMES; i++) {
          if (i > 1) await deps.sleep(gap);
          var b = await deps.grabFrame();
          if (b) out.push(b);
        }
      } finally {
        hide();
      }
      return out;
    }

    return {
      setRequired: function (on) { needed = !!on; document.body.dataset.liveness = needed ? "challenge" : "off"; },
      required: function () { return needed; },
      // The frames of one attempt and what they answer: the server's challenge, or an action drawn here (offline).
      capture: async function () {
        var c = await fetchChallenge();
        var action = c ? c.action : randomAction();
        var shot = { frames: await frames(action), action: action };
        if (c) shot.challenge_id = c.challenge_id; else shot.offline_action = action;
        return shot;
      },
      // A queued attempt is replayed with its action (the challenge itself would have expired by then).
      forQueue: function (item) {
        if (item.challenge_id) { item.offline_action = item.action; delete item.challenge_id; }
        return item;
      },
      failureText: function (res) {
        var err = res && res.body && res.body.error;
        if (!err) return null;
        if (err.code === "liveness_failed") return deps.T("kiosk.liveness.failed." + (err.reason || "no_turn"));
        if (err.code === "challenge_expired" || err.code === "challenge_used" || err.code === "liveness_required") {
          return deps.T("kiosk.liveness.again");
        }
        return null;
      }
    };
  };
})();
