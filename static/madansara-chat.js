/*
 * Madan Sara website chat widget. Dependency-free, no framework, no CDN; built to
 * static/madansara-chat.min.js by website/tracker_build.py (budget 15 KB minified + gzipped).
 *
 * Loaded on demand by the tracker (static/madansara.js) when its tag has `data-chat`:
 *   <script defer src="https://HOST/static/madansara.min.js" data-site="KEY" data-chat></script>
 * The tracker passes the site key, the API origin and its anonymous visitor id (data-aid), so the
 * chat is the same visitor the tracker, funnels and attribution know.
 *
 * Wire (JSON in text/plain POST bodies: no CORS preflight), all under {api}/chat/:
 *   GET config?site&lang · POST start {site, visitor, lang, name, email} → {token, cursor}
 *   POST resume|close {token} · POST messages {token, text, client_id}
 *   POST poll {token, after} → {events: [{id, kind: message|typing|closed, data}], cursor}
 *   POST email {token, email} · POST csat {token, score, comment}
 * Every text is drawn with textContent: nothing the visitor or an agent writes is HTML.
 */
(function (w, d) {
  var script = d.currentScript;
  if (!script || w.msChatLoaded) return;
  w.msChatLoaded = 1;
  var data = script.dataset;
  var site = data.site;
  var api = (data.api || new URL(script.src).origin) + "/chat/";
  var visitor = data.aid || "";
  var storeKey = "ms_chat_" + site;
  var store = w.localStorage;
  var token = store && store.getItem(storeKey);
  var cursor = 0;
  var polling = 0;
  var config;
  var status = "open";
  var shown = {};
  var unread = 0;
  var typingTimer;
  var emailLeft = false;

  var TEXT = {
    en: ["Send", "Write a message…", "End chat", "Your e-mail", "Send me replies", "How was this chat?", "Thank you for your rating!", "Your name", "Start the chat", "is typing…", "We will answer at", "A comment (optional)", "Away", "Online", "Could not send: try again.", "Rate"],
    fr: ["Envoyer", "Écrivez un message…", "Terminer", "Votre e-mail", "Recevoir les réponses", "Comment s'est passée cette conversation ?", "Merci pour votre note !", "Votre nom", "Commencer", "écrit…", "Nous répondrons à", "Un commentaire (facultatif)", "Absents", "En ligne", "Échec de l'envoi : réessayez.", "Noter"],
    es: ["Enviar", "Escriba un mensaje…", "Terminar", "Su e-mail", "Recibir respuestas", "¿Qué tal fue este chat?", "¡Gracias por su valoración!", "Su nombre", "Empezar", "está escribiendo…", "Responderemos a", "Un comentario (opcional)", "Ausentes", "En línea", "No se pudo enviar: reintente.", "Valorar"],
    ht: ["Voye", "Ekri yon mesaj…", "Fini", "Imèl ou", "Voye repons yo ban mwen", "Kijan chat la te ye?", "Mèsi pou nòt ou!", "Non ou", "Kòmanse", "ap ekri…", "N ap reponn nan", "Yon kòmantè (si ou vle)", "Absan", "Anliy", "Pa t ka voye: eseye ankò.", "Bay nòt"],
  };
  var t = TEXT.en;

  var post = function (path, body) {
    return fetch(api + path, { method: "POST", body: JSON.stringify(body), credentials: "omit" }).then(function (response) {
      return response.json().then(
        function (json) {
          if (!response.ok) throw json;
          return json;
        },
        function () {
          throw { status: response.status };
        }
      );
    });
  };
  var track = function (name, props) {
    try {
      if (w.ms && w.ms.track) w.ms.track(name, props);
    } catch (e) {}
  };
  var el = function (tag, attrs, parent, text) {
    var node = d.createElement(tag);
    for (var key in attrs || {}) node.setAttribute(key, attrs[key]);
    if (text != null) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  };
  var uid = function () {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  };

  // --- drawing: one shadow root keeps the site's CSS out and ours in -----------------------
  var host = el("div", { "data-ms-chat": "" }, d.body);
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var style = el("style", {}, root);
  var launcher = el("button", { type: "button", "data-ms-chat": "launcher", "aria-label": "Chat" }, root);
  // An inline SVG bubble: an emoji needs a font the visitor may not have.
  var svg = "http://www.w3.org/2000/svg";
  var icon = launcher.appendChild(d.createElementNS(svg, "svg"));
  var bubble = icon.appendChild(d.createElementNS(svg, "path"));
  icon.setAttribute("viewBox", "0 0 24 24");
  bubble.setAttribute("fill", "currentColor");
  bubble.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  var badge = el("span", { "data-ms-chat": "badge", hidden: "" }, launcher);
  var panel = el("section", { "data-ms-chat": "panel", hidden: "", role: "dialog" }, root);
  var head = el("header", {}, panel);
  var title = el("strong", {}, head);
  var state = el("span", { "data-ms-chat": "state" }, head);
  var endButton = el("button", { type: "button", "data-ms-chat": "end" }, head);
  var closeButton = el("button", { type: "button", "data-ms-chat": "close", "aria-label": "×" }, head, "×");
  var list = el("ol", { "data-ms-chat": "messages", "aria-live": "polite" }, panel);
  var typing = el("p", { "data-ms-chat": "typing", hidden: "" }, panel);
  var away = el("form", { "data-ms-chat": "away", hidden: "" }, panel);
  var awayText = el("p", {}, away);
  var awayEmail = el("input", { type: "email", name: "email", required: "" }, away);
  var awayButton = el("button", { type: "submit" }, away);
  var prechat = el("form", { "data-ms-chat": "prechat", hidden: "" }, panel);
  var csat = el("form", { "data-ms-chat": "csat", hidden: "" }, panel);
  var composer = el("form", { "data-ms-chat": "composer" }, panel);
  var input = el("textarea", { name: "text", rows: "2", maxlength: "2000" }, composer);
  var sendButton = el("button", { type: "submit", "data-ms-chat": "send" }, composer);
  var error = el("p", { "data-ms-chat": "error", hidden: "" }, panel);

  var paint = function () {
    var c = config;
    var side = c.position == "left" ? "left" : "right";
    style.textContent =
      ":host{all:initial}*{box-sizing:border-box;font:14px/1.4 system-ui,sans-serif}" +
      "[data-ms-chat=launcher]{position:fixed;bottom:20px;" + side + ":20px;width:56px;height:56px;border:0;border-radius:50%;" +
      "background:" + c.colour + ";color:" + c.text_colour + ";cursor:pointer;box-shadow:0 4px 14px #0003;z-index:2147483646}[data-ms-chat=launcher] svg{width:28px;height:28px}" +
      "[data-ms-chat=badge]{position:absolute;top:-2px;right:-2px;min-width:20px;padding:0 5px;border-radius:10px;background:#dc2626;color:#fff;font-size:12px}" +
      "section{position:fixed;bottom:88px;" + side + ":20px;width:340px;max-width:calc(100vw - 40px);height:480px;max-height:calc(100vh - 110px);" +
      "display:flex;flex-direction:column;background:#fff;color:#111;border-radius:12px;box-shadow:0 8px 30px #0004;overflow:hidden;z-index:2147483647}" +
      "[hidden]{display:none!important}header{display:flex;gap:8px;align-items:center;padding:12px;background:" + c.colour + ";color:" + c.text_colour + "}" +
      "header strong{flex:1}header button{background:none;border:1px solid currentColor;color:inherit;border-radius:6px;cursor:pointer;padding:2px 8px}" +
      "[data-ms-chat=state]{font-size:12px;opacity:.85}ol{flex:1;overflow-y:auto;margin:0;padding:12px;list-style:none}" +
      "li{max-width:80%;margin:6px 0;padding:8px 10px;border-radius:10px;white-space:pre-wrap;overflow-wrap:anywhere}" +
      "li.agent,li.greeting{background:#f1f5f9}li.visitor{margin-left:auto;background:" + c.colour + ";color:" + c.text_colour + "}" +
      "li.pending{opacity:.6}li.system{max-width:100%;text-align:center;font-size:12px;color:#555;background:none}" +
      "form{display:flex;flex-wrap:wrap;gap:6px;padding:10px;border-top:1px solid #e5e7eb}form p{margin:0;width:100%}" +
      "textarea,input{flex:1;min-width:0;padding:8px;border:1px solid #cbd5e1;border-radius:8px;resize:none}" +
      "form button{padding:8px 12px;border:0;border-radius:8px;background:" + c.colour + ";color:" + c.text_colour + ";cursor:pointer}" +
      "[data-ms-chat=csat] input{flex-basis:100%}[data-ms-chat=csat] button{flex:1;padding:8px 0}[data-ms-chat=typing],[data-ms-chat=error]{margin:0 12px;font-size:12px;color:#555}[data-ms-chat=error]{color:#b91c1c}";
    t = TEXT[c.language] || TEXT.en;
    title.textContent = c.title;
    state.textContent = c.online ? t[13] : t[12];
    endButton.textContent = t[2];
    input.placeholder = t[1];
    sendButton.textContent = t[0];
    awayText.textContent = c.away_message;
    awayEmail.placeholder = t[3];
    awayButton.textContent = t[4];
    launcher.style.display = "";
  };

  var scroll = function () {
    list.scrollTop = list.scrollHeight;
  };
  var add = function (message) {
    var key = message.client_id || message.id;
    var existing = shown[key] || shown[message.id];
    if (existing) {
      existing.className = message.from;
      shown[message.id] = existing;
      return;
    }
    var item = el("li", { class: message.from + (message.pending ? " pending" : ""), "data-id": message.id || "" }, list, message.text);
    shown[key] = item;
    if (message.id) shown[message.id] = item;
    if (message.from == "agent" && panel.hidden) {
      unread++;
      badge.textContent = unread;
      badge.hidden = false;
    }
    scroll();
    return item;
  };
  var system = function (text) {
    el("li", { class: "system" }, list, text);
    scroll();
  };
  var fail = function (problem) {
    error.textContent = (problem && problem.error && problem.error.message) || t[14];
    error.hidden = false;
  };

  var showAway = function () {
    away.hidden = emailLeft || config.online;
  };
  var showCsat = function () {
    if (!config.csat) return;
    csat.textContent = "";
    el("p", {}, csat, t[5]);
    var comment = el("input", { name: "comment", placeholder: t[11], maxlength: "1000" }, csat);
    [1, 2, 3, 4, 5].forEach(function (score) {
      var star = el("button", { type: "button", "data-score": score, "aria-label": t[15] + " " + score }, csat, "★".repeat(score));
      star.onclick = function () {
        post("csat", { token: token, score: score, comment: comment.value }).then(function () {
          csat.textContent = "";
          el("p", { "data-ms-chat": "thanks" }, csat, t[6]);
          track("$chat_rated", { score: score });
        }, fail);
      };
    });
    csat.hidden = false;
  };
  var ended = function () {
    status = "closed";
    composer.hidden = endButton.hidden = true;
    showCsat();
  };

  var handle = function (event) {
    var payload = event.data || {};
    if (event.kind == "message") {
      add(payload);
      if (payload.from == "agent") typing.hidden = true;
    } else if (event.kind == "typing") {
      typing.textContent = "… " + t[9];
      typing.hidden = false;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () {
        typing.hidden = true;
      }, 6000);
    } else if (event.kind == "closed") {
      ended();
    }
  };

  var poll = function () {
    if (!token || polling) return;
    polling = 1;
    post("poll", { token: token, after: cursor })
      .then(function (body) {
        cursor = body.cursor || cursor;
        (body.events || []).forEach(handle);
        polling = 0;
        poll();
      })
      .catch(function (problem) {
        polling = 0;
        if (problem && problem.error && problem.error.code == "invalid_token") return forget();
        setTimeout(poll, 1000);
      });
  };
  var forget = function () {
    token = null;
    if (store) store.removeItem(storeKey);
  };

  var start = function (fields) {
    fields = fields || {};
    return post("start", { site: site, visitor: visitor, lang: config.language, name: fields.name || "", email: fields.email || "" }).then(function (body) {
      token = body.token;
      cursor = body.cursor;
      emailLeft = !!fields.email;
      if (store) store.setItem(storeKey, token);
      track("$chat_started", { online: config.online });
      poll();
    });
  };
  var send = function (text) {
    var clientId = uid();
    var item = add({ client_id: clientId, from: "visitor", text: text, pending: 1 });
    var deliver = function () {
      return post("messages", { token: token, text: text, client_id: clientId }).then(function (body) {
        item.className = "visitor";
        shown[body.id] = item;
        track("$chat_message", { online: config.online });
        showAway();
      });
    };
    error.hidden = true;
    (token ? deliver() : start().then(deliver)).catch(function (problem) {
      item.remove();
      delete shown[clientId];
      fail(problem);
      input.value = text;
    });
  };

  var drawPrechat = function () {
    prechat.textContent = "";
    var inputs = {};
    config.prechat.forEach(function (name) {
      inputs[name] = el("input", { name: name, type: name == "email" ? "email" : "text", required: "", placeholder: name == "email" ? t[3] : t[7] }, prechat);
    });
    el("button", { type: "submit" }, prechat, t[8]);
    prechat.hidden = false;
    composer.hidden = true;
    prechat.onsubmit = function (event) {
      event.preventDefault();
      var fields = {};
      for (var name in inputs) fields[name] = inputs[name].value.trim();
      start(fields).then(function () {
        prechat.hidden = true;
        composer.hidden = false;
        input.focus();
      }, fail);
    };
  };

  var greeted = 0;
  var greet = function () {
    if (greeted) return;
    greeted = 1;
    el("li", { class: "greeting" }, list, config.greeting);
    if (!token && config.prechat.length) drawPrechat();
  };
  var open = function () {
    panel.hidden = !panel.hidden;
    unread = 0;
    badge.hidden = true;
    if (panel.hidden) return;
    greet();
    showAway();
    if (!composer.hidden) input.focus();
  };

  var resume = function () {
    return post("resume", { token: token }).then(
      function (body) {
        cursor = body.cursor;
        emailLeft = body.email;
        greet();
        (body.messages || []).forEach(add);
        if (body.status == "closed") ended();
        poll();
      },
      function (problem) {
        if (problem && problem.error) forget();
      }
    );
  };

  launcher.onclick = open;
  closeButton.onclick = function () {
    panel.hidden = true;
  };
  endButton.onclick = function () {
    if (token && status == "open") post("close", { token: token }).catch(fail);
  };
  composer.onsubmit = function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    if (status == "closed") {
      status = "open";
      csat.hidden = true;
      endButton.hidden = false;
    }
    send(text);
  };
  input.onkeydown = function (event) {
    if (event.key == "Enter" && !event.shiftKey) {
      event.preventDefault();
      composer.requestSubmit ? composer.requestSubmit() : composer.onsubmit(event);
    }
  };
  away.onsubmit = function (event) {
    event.preventDefault();
    var email = awayEmail.value.trim();
    var save = function () {
      return post("email", { token: token, email: email }).then(function () {
        emailLeft = true;
        away.hidden = true;
        system(t[10] + " " + email);
      });
    };
    (token ? save() : start().then(save)).catch(fail);
  };

  launcher.style.display = "none";
  fetch(api + "config?site=" + encodeURIComponent(site) + "&lang=" + encodeURIComponent(navigator.language || ""), { credentials: "omit" })
    .then(function (response) {
      if (!response.ok) throw 0;
      return response.json();
    })
    .then(function (body) {
      config = body;
      paint();
      if (token) resume();
    })
    .catch(function () {
      host.remove();
    });
  w.msChat = { open: function () { if (panel.hidden) open(); } };
})(window, document);
