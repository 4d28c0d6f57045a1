/* faceclock kiosk: where attempts wait (IndexedDB, in memory when the browser has none: then only until the page is
 * reloaded). Two stores with the same interface (add, first, all, put, remove, count → Promises of plain values):
 * "queue" (waiting, in capture order) and "failed" (moved aside, with a reason). Used by kiosk.js.
 */
(function () {
  "use strict";

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

  window.FC = window.FC || {};
  window.FC.kioskStore = {
    queue: store("queue"),
    failed: store("failed"),
    backend: dbp.then(function (db) { return db ? "indexeddb" : "memory"; })
  };
})();
