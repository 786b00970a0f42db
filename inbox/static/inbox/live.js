// Live console: the queue and the open conversation follow the inbox without a reload, and agents
// see each other on a conversation. Long-polls /live/inbox/poll (madansara/live.py); on an event
// the page's own HTML is fetched again and its live parts swapped in place.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !window.fetch) return;
  var cursor = parseInt(root.dataset.cursor, 10) || 0;
  var conversation = root.dataset.conversation || "";
  var me = root.dataset.user;
  var notice = document.getElementById("live-notice");
  var LIVE_PARTS = ["#thread", ".review-top", "#message", "#changelist-form", "#contact"];
  var others = {};
  // Presence older than this is stale (the other page closed or lost the network): it leaves the notice.
  var ttl = (parseInt(root.dataset.presenceTtl, 10) || 45) * 1000;
  var stale = false;
  var delay = 1000;

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]*)/);
    return (input && input.value) || (match && match[1]) || "";
  }

  function say(text, kind) {
    if (!notice) return;
    notice.hidden = !text;
    notice.textContent = text;
    notice.className = "live-notice" + (kind ? " live-" + kind : "");
  }

  function showOthers() {
    var now = Date.now();
    var lines = [];
    Object.keys(others).forEach(function (id) {
      var who = others[id];
      if (now - who.at > ttl || who.state === "left") { delete others[id]; return; }
      lines.push(who.user + (who.state === "replying" ? " is replying to this conversation" : " is viewing this conversation"));
    });
    if (stale) lines.unshift("Someone else answered or changed this conversation: your reply would be refused. Reload to see it.");
    say(lines.join(" · "), stale ? "warning" : "info");
  }

  function selected() {
    return document.querySelector("#changelist-form input.action-select:checked");
  }

  function refresh(keepVersion) {
    return fetch(window.location.href, { credentials: "same-origin", headers: { "X-Live-Refresh": "1" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        LIVE_PARTS.forEach(function (selector) {
          var now = document.querySelector(selector);
          var next = fresh.querySelector(selector);
          if (!now || !next) return;
          if (selector === "#changelist-form" && selected()) { say("New activity in the queue: reload to see it (your selection is kept until then).", "info"); return; }
          now.innerHTML = next.innerHTML;
          now.classList.add("live-updated");
          setTimeout(function () { now.classList.remove("live-updated"); }, 1500);
        });
        var pending = document.getElementById("pending-draft");
        var freshPending = fresh.getElementById("pending-draft");
        if (!pending && freshPending) {
          var top = document.querySelector(".review-top");
          if (top && !top.querySelector("#pending-draft")) top.appendChild(freshPending);
        }
        if (!keepVersion) {
          var version = document.querySelector("input[name=version]");
          var freshVersion = fresh.querySelector("input[name=version]");
          if (version && freshVersion) version.value = freshVersion.value;
        }
        document.dispatchEvent(new CustomEvent("live:refreshed"));
      });
  }

  function handle(events) {
    var reload = false;
    var keepVersion = false;
    events.forEach(function (event) {
      var data = event.data || {};
      if (event.kind === "presence") {
        if (String(data.user_id) !== me) { others[data.user_id] = { user: data.user, state: data.state, at: Date.now() }; }
        return;
      }
      reload = true;
      // What another agent did (a reply, a new assignee or status) must not be silently absorbed:
      // the reply form keeps the version it was opened with, so a second reply is refused.
      if (conversation && event.kind !== "message" && event.kind !== "draft" && String(data.by || "") !== me) {
        keepVersion = true;
        if (event.kind === "reply") stale = true;
      }
    });
    showOthers();
    if (reload) return refresh(keepVersion || stale);
  }

  function poll() {
    var url = root.dataset.poll + "?after=" + cursor + (conversation ? "&conversation=" + conversation : "");
    fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (body) {
        delay = 1000;
        cursor = body.cursor || cursor;
        return handle(body.events || []);
      })
      .then(function () { setTimeout(poll, 0); }, function () {
        delay = Math.min(delay * 2, 30000);
        setTimeout(poll, delay);
      });
  }

  function presence(state) {
    if (!conversation) return;
    fetch(root.dataset.presence, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ conversation: parseInt(conversation, 10), state: state }),
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body || !body.others) return;
        // The server's list is the truth: whoever is not in it stopped heartbeating.
        var fresh = {};
        body.others.forEach(function (who) {
          fresh[who.user_id] = { user: who.user, state: who.state, at: Date.now() };
        });
        others = fresh;
        showOthers();
      })
      .catch(function () {});
  }

  if (conversation) {
    presence("viewing");
    setInterval(function () { presence("viewing"); showOthers(); }, Math.min(20000, ttl / 3));
    var typingSent = 0;
    document.addEventListener("input", function (event) {
      if (!event.target.matches("#reply-text, #draft-text")) return;
      if (Date.now() - typingSent < 4000) return;
      typingSent = Date.now();
      presence("replying");
    });
  }
  poll();
})();
