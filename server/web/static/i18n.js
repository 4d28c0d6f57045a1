/* faceclock pages' languages: one message catalog per language (/i18n/en.json, /i18n/es.json), shared by the
 * kiosk (/kiosk) and the console (/admin). Plain browser JavaScript, no build step.
 *
 * Language: ?lang=xx in the address (kept), else the one chosen with the switch (localStorage "faceclock.lang"),
 * else the first of the browser's languages (navigator.languages) that has a catalog, else English.
 * Dates and times use the browser's own locale when it is of the chosen language (es-MX, en-GB ...), else the
 * language itself ("es" 24-hour, "en" as en-US); Intl decides 12- or 24-hour from that locale.
 *
 * Strings: t("key", {name: "Ada"}) with "{name}" placeholders; a key whose value is an object of plural forms
 * ({"one": ..., "other": ...}) is chosen by Intl.PluralRules from params.count. In HTML: data-i18n="key" (text),
 * data-i18n-placeholder / -title / -aria-label / -alt (attributes); apply(root) fills them, and runs again on a switch.
 * API errors: error(code) → catalog "error.<code>" (FC.i18n.error("no_face", "kiosk.error.") tries the page's own
 * wording first), never the server's English message.
 */
(function () {
  "use strict";

  var LANGS = ["en", "es"];
  var STORE = "faceclock.lang";
  var catalog = {}, lang = "en", locale = "en", listeners = [];

  function stored() { try { return localStorage.getItem(STORE); } catch (e) { return null; } }
  function store(v) { try { localStorage.setItem(STORE, v); } catch (e) { /* private mode: not kept */ } }
  function primary(tag) { return String(tag || "").toLowerCase().split("-")[0]; }
  function browserLanguages() {
    return (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"]);
  }

  function choose() {
    var q = new URLSearchParams(location.search).get("lang");
    if (q && LANGS.indexOf(primary(q)) >= 0) { store(primary(q)); return primary(q); }
    var s = stored();
    if (s && LANGS.indexOf(s) >= 0) return s;
    var list = browserLanguages();
    for (var i = 0; i < list.length; i++) if (LANGS.indexOf(primary(list[i])) >= 0) return primary(list[i]);
    return "en";
  }

  function localeFor(l) {
    var list = browserLanguages();
    for (var i = 0; i < list.length; i++) {
      if (primary(list[i]) === l) {
        try { return Intl.DateTimeFormat.supportedLocalesOf([list[i]])[0] || l; } catch (e) { return l; }
      }
    }
    return l;
  }

  function load(l) {
    return fetch("/i18n/" + l + ".json", { cache: "no-cache" }).then(function (r) {
      if (!r.ok) throw new Error("catalog " + l + ": " + r.status);
      return r.json();
    });
  }

  function fill(text, params) {
    return String(text).replace(/\{(\w+)\}/g, function (m, k) {
      return params && params[k] !== undefined && params[k] !== null ? String(params[k]) : m;
    });
  }

  function has(key) { return Object.prototype.hasOwnProperty.call(catalog, key); }

  function t(key, params) {
    var v = catalog[key];
    if (v === undefined) {
      console.warn("faceclock i18n: no string for", key, "in", lang);
      return key;
    }
    if (typeof v === "object") {
      var n = params && typeof params.count === "number" ? params.count : 0;
      var form = new Intl.PluralRules(locale).select(n);
      v = v[form] !== undefined ? v[form] : v.other;
    }
    return fill(v, params);
  }

  function error(code, prefix) {
    if (prefix && has(prefix + code)) return t(prefix + code);
    if (code && has("error." + code)) return t("error." + code);
    return t("error.unknown", { code: code || "?" });
  }

  var ATTRS = ["placeholder", "title", "aria-label", "alt"];
  function apply(root) {
    root = root || document;
    root.querySelectorAll("[data-i18n]").forEach(function (el) { el.textContent = t(el.dataset.i18n); });
    ATTRS.forEach(function (a) {
      root.querySelectorAll("[data-i18n-" + a + "]").forEach(function (el) {
        el.setAttribute(a, t(el.getAttribute("data-i18n-" + a)));
      });
    });
  }

  function asDate(v) { return v instanceof Date ? v : new Date(v); }
  function fmt(v, opts, zone) {
    if (v === null || v === undefined || v === "") return "";
    var o = Object.assign({}, opts);
    if (zone) o.timeZone = zone;
    try { return new Intl.DateTimeFormat(locale, o).format(asDate(v)); }
    catch (e) { delete o.timeZone; return new Intl.DateTimeFormat(locale, o).format(asDate(v)); }
  }
  // A calendar date "2026-11-25" is a day, not an instant: formatted as such, whatever the zone.
  function day(iso, opts) {
    if (!iso) return "";
    var p = String(iso).slice(0, 10).split("-");
    var d = new Date(Date.UTC(+p[0], +p[1] - 1, +p[2], 12));
    return fmt(d, Object.assign({ year: "numeric", month: "short", day: "numeric" }, opts), "UTC");
  }

  function setLanguage(l) {
    if (LANGS.indexOf(l) < 0) return Promise.resolve(lang);
    store(l);
    return activate(l).then(function () {
      listeners.forEach(function (fn) { try { fn(lang); } catch (e) { console.error(e); } });
      return lang;
    });
  }

  function activate(l) {
    return load(l).then(function (c) {
      catalog = c; lang = l; locale = localeFor(l);
      document.documentElement.lang = l;
      document.documentElement.dataset.locale = locale;
      apply(document);
    });
  }

  // <select data-lang-switch> elements become the language switch.
  function bindSwitches() {
    document.querySelectorAll("select[data-lang-switch]").forEach(function (sel) {
      if (sel.dataset.bound) { sel.value = lang; return; }
      sel.dataset.bound = "1";
      sel.value = lang;
      sel.addEventListener("change", function () { setLanguage(sel.value); });
    });
  }
  listeners.push(bindSwitches);

  var first = choose();
  var ready = activate(first).catch(function (e) {
    console.error("faceclock i18n:", e);
    return first === "en" ? null : activate("en");
  }).then(function () { bindSwitches(); return lang; });

  window.FC = window.FC || {};
  window.FC.i18n = {
    languages: LANGS.slice(),
    ready: ready,
    t: t,
    has: has,
    error: error,
    apply: apply,
    set: setLanguage,
    onChange: function (fn) { listeners.push(fn); },
    lang: function () { return lang; },
    locale: function () { return locale; },
    // instants (ISO strings with an offset, or Date): in `zone` when given (the shift's), else the browser's
    time: function (v, zone) { return fmt(v, { hour: "2-digit", minute: "2-digit" }, zone); },
    timeSeconds: function (v, zone) { return fmt(v, { hour: "2-digit", minute: "2-digit", second: "2-digit" }, zone); },
    dateTime: function (v, zone) {
      return fmt(v, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }, zone);
    },
    day: day,
    weekday: function (iso) { return day(iso, { weekday: "short", year: undefined, month: undefined, day: undefined }); },
    number: function (n, opts) { return new Intl.NumberFormat(locale, opts).format(n); }
  };
})();
