/*
 * Madan Sara first-party tracker. Dependency-free; built to static/madansara.min.js by
 * website/tracker_build.py (the budget is 2 KB minified + gzipped).
 *
 * <script defer src="https://HOST/static/madansara.min.js" data-site="PUBLIC_KEY"
 *   [data-api="https://HOST"] [data-autocapture] [data-cookieless] [data-dnt] [data-chat]></script>
 * `data-chat` loads the chat widget (static/madansara-chat.min.js, async) only on pages that ask for it.
 *
 * API: ms.track(name, props), ms.identify(idOrEmail, traits, hash), ms.variant(key) -> Promise,
 *      ms.flush(). Calls queued before load on window.ms = [] are replayed. `hash` is
 *      hex HMAC-SHA256(the site's identity secret, idOrEmail), computed by the site's server:
 *      without it an identify is only recorded as an unverified claim (website/ingest/identify.py).
 * Wire format (POST {api}/t/batch, text/plain so no CORS preflight is needed):
 *   {"site": key, "events": [{"n": name, "t": epochMs, "u": url, "r": referrer,
 *     "a": anonymousId, "s": sessionId, "p": props}]}
 */
(function (w, d) {
  var noop = function () {};
  try {
    var script = d.currentScript || d.querySelector("script[data-site]");
    var data = script.dataset;
    var site = data.site;
    var api = data.api || new URL(script.src).origin;
    var nav = navigator;
    var store = w.localStorage;
    var queued = w.ms && w.ms.push ? w.ms : [];
    var queue = [];
    var backoff = 0;
    var timer = 0;
    var variants;
    var exposed = {};
    var lastUrl;
    var cookieless = "cookieless" in data;
    var now = Date.now;
    var random = function () {
      return now().toString(36) + Math.random().toString(36).slice(2, 10);
    };
    var safe = function (fn) {
      return function (a, b, c) {
        try {
          return fn(a, b, c);
        } catch (e) {}
      };
    };
    var get = function (key) {
      if (cookieless) return 0;
      var match = d.cookie.match("(^|; )" + key + "=([^;]*)");
      return (store && store.getItem(key)) || (match && match[2]);
    };
    var set = function (key, value) {
      if (cookieless) return;
      if (store) store.setItem(key, value);
      else d.cookie = key + "=" + value + ";path=/;max-age=31536000;SameSite=Lax";
    };
    var optedOut =
      "dnt" in data && (nav.doNotTrack == "1" || w.doNotTrack == "1" || nav.globalPrivacyControl);
    var anonymousId = cookieless ? "" : get("ms_aid") || random();
    var memorySession = 0;
    var sessionId = function () {
      // 30 minutes of inactivity or 24 hours in total end a session.
      var parts = (get("ms_sid") || memorySession || "").split(".");
      var t = now();
      if (!parts[2] || t - parts[2] > 18e5 || t - parts[1] > 864e5) parts = [random(), t];
      parts[2] = t;
      memorySession = parts.join(".");
      set("ms_sid", memorySession);
      return parts[0];
    };
    set("ms_aid", anonymousId);

    var send = function (beacon) {
      clearTimeout(timer);
      timer = 0;
      if (!queue.length) return;
      var batch = queue.splice(0, 50);
      var body = JSON.stringify({ site: site, events: batch });
      var url = api + "/t/batch";
      // On page hide the page may be gone before fetch resolves: sendBeacon survives it.
      if (beacon && nav.sendBeacon && nav.sendBeacon(url, body)) return send(1);
      var retry = function () {
        // Offline or a 5xx: put the batch back and retry with exponential backoff.
        queue = batch.concat(queue);
        backoff = Math.min((backoff || 1e3) * 2, 6e4);
        schedule(backoff);
      };
      fetch(url, { method: "POST", body: body, keepalive: true, credentials: "omit" }).then(
        function (response) {
          if (response.status >= 500) return retry();
          backoff = 0;
          schedule();
        },
        retry
      );
    };
    var schedule = function (delay) {
      if (queue.length && !timer) timer = setTimeout(send, delay || 3e3);
    };
    var track = function (name, props) {
      if (optedOut || !name) return;
      queue.push({
        n: String(name),
        t: now(),
        u: location.href,
        r: d.referrer,
        a: anonymousId,
        s: cookieless ? "" : sessionId(),
        p: props || {},
      });
      queue.length >= 20 ? send() : schedule(backoff);
    };
    var pageview = function () {
      if (lastUrl == location.href) return;
      lastUrl = location.href;
      track("pageview", { title: d.title });
    };
    var attributes = function (el) {
      var props = {};
      for (var key in el.dataset) if (key.indexOf("msProp") == 0) props[key.slice(6).toLowerCase()] = el.dataset[key];
      return props;
    };

    w.ms = {
      track: safe(track),
      identify: safe(function (id, traits, hash) {
        if (id) track("$identify", { id: String(id), traits: traits || {}, hash: hash });
      }),
      variant: safe(function (key) {
        variants =
          variants ||
          fetch(api + "/ab/assignments?site_key=" + site + "&unit=" + (anonymousId || random()) + "&url=" + encodeURIComponent(location.href), { credentials: "omit" })
            .then(function (response) {
              return response.json();
            })
            .then(
              function (body) {
                return body.assignments || {};
              },
              function () {
                return {};
              }
            );
        return variants.then(function (all) {
          var value = all[key] || null;
          if (value && !exposed[key]) track("$exposure", { experiment: key, variant: (exposed[key] = value) });
          return value;
        });
      }),
      flush: safe(send),
      push: safe(function (call) {
        w.ms[call[0]].apply(0, call.slice(1));
      }),
    };

    d.addEventListener(
      "click",
      safe(function (event) {
        var el = event.target.closest && event.target.closest("[data-ms-event]");
        if (el) return track(el.dataset.msEvent, attributes(el));
        el = "autocapture" in data && event.target.closest("a,button");
        if (el) track("$click", { tag: el.tagName.toLowerCase(), text: el.innerText.trim().slice(0, 80), href: el.href });
      }),
      true
    );
    ["pushState", "replaceState"].forEach(function (method) {
      var original = history[method];
      history[method] = function () {
        var result = original.apply(this, arguments);
        safe(pageview)();
        return result;
      };
    });
    w.addEventListener("popstate", safe(pageview));
    w.addEventListener(
      "online",
      safe(function () {
        send();
      })
    );
    w.addEventListener("pagehide", safe(send.bind(0, 1)));
    d.addEventListener(
      "visibilitychange",
      safe(function () {
        if (d.visibilityState == "hidden") send(1);
      })
    );
    pageview();
    queued.forEach(w.ms.push);
    if ("chat" in data) {
      var chat = d.createElement("script");
      chat.src = api + "/static/madansara-chat.min.js";
      chat.dataset.site = site;
      chat.dataset.api = api;
      chat.dataset.aid = anonymousId;
      d.head.appendChild(chat);
    }
  } catch (e) {
    w.ms = w.ms || { track: noop, identify: noop, variant: noop, flush: noop };
  }
})(window, document);
