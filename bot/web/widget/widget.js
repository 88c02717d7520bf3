/*
 * Carers' Assistant chat widget.
 *
 * Embed with one tag:
 *   <script src="/widget/widget.js" data-rasa-url="http://localhost:5005" defer></script>
 *
 * It loads its stylesheet and socket.io-client from the same folder/site (no CDN), and talks to
 * Rasa's socketio channel (session_request / session_confirm, user_uttered / bot_uttered, with
 * session_persistence on). Written small in plain JavaScript so that every accessibility detail
 * is ours to get right; see docs/web.md.
 *
 * Safety rules kept throughout: every piece of text from the bot or the user is inserted as text
 * (text nodes / textContent, never as HTML); links are only made from http(s) URLs and open in a
 * new tab with rel="noopener noreferrer"; the Urgent help content is built in here, so it works
 * with no server at all.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__carersAssistantWidget) {
    return;
  }
  window.__carersAssistantWidget = true;

  var RASA_URL = script.getAttribute("data-rasa-url") || "";
  var ASSET_BASE = new URL(".", script.src);
  var SOCKET_IO_SRC = new URL("/vendor/socket.io.min.js", script.src).href;
  var URGENT_PAGE = new URL("/urgent-help", script.src).href;

  var KEYS = {
    session: "carersAssistant.session",
    transcript: "carersAssistant.transcript",
    open: "carersAssistant.open",
    draft: "carersAssistant.draft"
  };
  var MAX_STORED_MESSAGES = 200;
  var REPLY_WAIT_MS = 20000;

  var TEXT = {
    connecting: "Connecting to the assistant…",
    down:
      "The assistant is not available at the moment. We will keep trying to reconnect. " +
      "Anything you have typed stays in the box. If you need help now, choose Urgent help.",
    back: "The assistant is available again.",
    notSent:
      "Your message has not been sent because the assistant is not available at the moment. " +
      "It is still in the box, so you can send it when the assistant is back. " +
      "If you need help now, choose Urgent help.",
    noReply:
      "No reply yet. The assistant may be busy, so please try again in a moment. " +
      "If you need help now, choose Urgent help.",
    cannotLoad: "The chat could not start on this page. If you need help now, choose Urgent help.",
    restarted: "You have started a new conversation.",
    intro:
      "Hello. I am the Carers' Assistant, a computer program, not a person. I can answer " +
      "questions about supporting someone in a secure mental health hospital. Ask me in your " +
      "own words, or choose a topic."
  };

  // Starter topics: payloads are intents from the assistant's contract (intents.md).
  var INTRO_REPLIES = [
    { title: "Visiting", payload: "/ask_visiting" },
    { title: "What staff can tell me", payload: "/ask_confidentiality" },
    { title: "Looking after myself", payload: "/ask_carer_wellbeing" },
    { title: "About the toolkit", payload: "/ask_about_toolkit" }
  ];

  // Crisis routes, the same as the site's /urgent-help page and the bot's utter_crisis.
  // A part is either plain text or {tel|sms: number, text: label}.
  var CRISIS_ROUTES = [
    ["If anyone is in danger right now, call ", { tel: "999", text: "999" }, "."],
    [
      "For urgent mental health help, day or night, call ",
      { tel: "111", text: "111" },
      ". In England choose option 2. In Wales call NHS 111 Wales and press 2. " +
        "In Scotland NHS 24 answers on 111."
    ],
    ["In Northern Ireland, call Lifeline on ", { tel: "08088088000", text: "0808 808 8000" }, "."],
    ["Samaritans: call ", { tel: "116123", text: "116 123" }, ", free, day or night."],
    ["If talking is hard, text SHOUT to ", { sms: "85258", text: "85258" }, "."],
    ["If the worry is about the person in hospital, ring the ward straight away."]
  ];

  // ---------------------------------------------------------------- small helpers

  var idCounter = 0;
  function uid(prefix) {
    idCounter += 1;
    return "ca-" + prefix + "-" + idCounter;
  }

  /* Create an element. `attrs` are set with setAttribute; `children` are nodes or strings,
   * and strings always become text nodes. */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === true) {
        node.setAttribute(name, "");
      } else if (value !== false && value !== null && value !== undefined) {
        node.setAttribute(name, String(value));
      }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function hiddenText(text) {
    return el("span", { class: "ca-vh" }, [text]);
  }

  function store(key, value) {
    try {
      if (value === null) {
        window.sessionStorage.removeItem(key);
      } else {
        window.sessionStorage.setItem(key, value);
      }
    } catch (err) {
      // Storage can be full or blocked; the chat still works, it just won't survive a reload.
    }
  }

  function load(key) {
    try {
      return window.sessionStorage.getItem(key);
    } catch (err) {
      return null;
    }
  }

  /* Only http(s) URLs become links; anything else (javascript:, data:, ...) stays text. */
  function safeUrl(text) {
    try {
      var url = new URL(text);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (err) {
      return null;
    }
  }

  function externalLink(href, label, className) {
    return el(
      "a",
      { href: href, target: "_blank", rel: "noopener noreferrer", class: className || null },
      [label, hiddenText(" (opens in a new tab)")]
    );
  }

  var LINK_PATTERN = /\[([^\]\n]{1,200})\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s<>"']+)/g;

  /* Append `text` to `parent` as text nodes, turning Markdown links [label](url) and bare
   * http(s) URLs into safe links. Line breaks are kept by CSS (white-space: pre-line). */
  function appendRichText(parent, text) {
    var last = 0;
    var match;
    LINK_PATTERN.lastIndex = 0;
    while ((match = LINK_PATTERN.exec(text)) !== null) {
      var label = match[1];
      var raw = match[2] || match[3];
      var trailing = "";
      if (!label) {
        // Leave sentence punctuation after a bare URL outside the link.
        var cut = raw.match(/[.,;:!?)\]]+$/);
        if (cut) {
          trailing = cut[0];
          raw = raw.slice(0, -trailing.length);
        }
      }
      var href = safeUrl(raw);
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (href) {
        parent.appendChild(externalLink(href, label || raw));
      } else {
        parent.appendChild(
          document.createTextNode(match[0].slice(0, match[0].length - trailing.length))
        );
      }
      if (trailing) {
        parent.appendChild(document.createTextNode(trailing));
      }
      last = match.index + match[0].length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // ---------------------------------------------------------------- building the widget

  var root, panel, log, typing, statusLine, form, input, launcher, urgentButton, dialog;
  var transcript = [];
  var socket = null;
  var sessionId = load(KEYS.session);
  var ready = false;
  var wentDown = false;
  var replyTimer = null;

  function build() {
    var titleId = uid("title");
    var inputId = uid("input");
    var panelId = uid("panel");

    log = el("div", {
      class: "ca-log",
      role: "log",
      "aria-live": "polite",
      "aria-label": "Conversation",
      tabindex: "0"
    });
    typing = el("p", { class: "ca-typing", hidden: true }, [
      "The assistant is typing",
      el("span", { class: "ca-dots", "aria-hidden": "true" }, [
        el("span", {}, ["."]),
        el("span", {}, ["."]),
        el("span", {}, ["."])
      ])
    ]);
    statusLine = el("p", { class: "ca-status", role: "status" });
    input = el("input", {
      id: inputId,
      class: "ca-input",
      type: "text",
      autocomplete: "off",
      maxlength: "1000",
      enterkeyhint: "send"
    });
    input.value = load(KEYS.draft) || "";
    form = el("form", { class: "ca-form" }, [
      el("label", { for: inputId, class: "ca-label" }, ["Your message"]),
      el("div", { class: "ca-row" }, [
        input,
        el("button", { type: "submit", class: "ca-button ca-send" }, ["Send"])
      ])
    ]);
    var restart = el("button", { type: "button", class: "ca-button ca-quiet" }, ["Start again"]);
    var close = el(
      "button",
      { type: "button", class: "ca-button ca-quiet", "aria-label": "Close chat" },
      ["Close"]
    );

    panel = el(
      "section",
      { id: panelId, class: "ca-panel", "aria-labelledby": titleId, hidden: true },
      [
        el("div", { class: "ca-head" }, [
          el("div", { class: "ca-head-text" }, [
            el("h2", { id: titleId, class: "ca-title" }, ["Carers' Assistant"]),
            el("p", { class: "ca-sub" }, ["A computer program, not a person. Not for emergencies."])
          ]),
          el("div", { class: "ca-head-actions" }, [restart, close])
        ]),
        log,
        typing,
        statusLine,
        form
      ]
    );

    urgentButton = el(
      "button",
      { type: "button", class: "ca-button ca-urgent", "aria-haspopup": "dialog" },
      ["Urgent help"]
    );
    launcher = el(
      "button",
      {
        type: "button",
        class: "ca-button ca-launcher",
        "aria-expanded": "false",
        "aria-controls": panelId
      },
      ["Ask the assistant"]
    );
    dialog = buildDialog();

    root = el(
      "aside",
      { class: "ca-root", "aria-label": "Assistant and urgent help", "data-state": "idle" },
      [panel, el("div", { class: "ca-dock" }, [urgentButton, launcher])]
    );

    launcher.addEventListener("click", function () {
      if (panel.hidden) {
        openPanel(true);
      } else {
        closePanel();
      }
    });
    close.addEventListener("click", closePanel);
    restart.addEventListener("click", startAgain);
    urgentButton.addEventListener("click", showUrgentHelp);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (sendMessage(input.value)) {
        input.value = "";
        store(KEYS.draft, null);
      }
    });
    input.addEventListener("input", function () {
      store(KEYS.draft, input.value || null);
    });
    root.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !panel.hidden && !dialog.open && !event.defaultPrevented) {
        event.preventDefault();
        closePanel();
      }
    });
  }

  function buildDialog() {
    var titleId = uid("urgent-title");
    var title = el("h2", { id: titleId, class: "ca-title", tabindex: "-1" }, ["Urgent help"]);
    var list = el(
      "ul",
      { class: "ca-crisis" },
      CRISIS_ROUTES.map(function (parts) {
        return el(
          "li",
          {},
          parts.map(function (part) {
            if (typeof part === "string") {
              return part;
            }
            var href = part.tel ? "tel:" + part.tel : "sms:" + part.sms;
            return el("a", { href: href }, [part.text]);
          })
        );
      })
    );
    var closeButton = el("button", { type: "button", class: "ca-button" }, ["Close urgent help"]);
    var box = el("dialog", { class: "ca-dialog", "aria-labelledby": titleId }, [
      title,
      el("p", {}, [
        "If you are worried that someone may harm themselves or someone else, get help now."
      ]),
      list,
      el("p", {}, [
        "The assistant is not an emergency service. ",
        el("a", { href: URGENT_PAGE }, ["Open the urgent help page"])
      ]),
      closeButton
    ]);
    closeButton.addEventListener("click", function () {
      box.close();
    });
    box.addEventListener("close", function () {
      urgentButton.focus();
    });
    return box;
  }

  function showUrgentHelp() {
    if (typeof dialog.showModal === "function") {
      dialog.showModal();
    } else {
      dialog.setAttribute("open", "");
    }
    dialog.querySelector("h2").focus();
  }

  // ---------------------------------------------------------------- transcript

  function renderEntry(entry) {
    var bot = entry.from === "bot";
    var message = el("div", { class: "ca-msg " + (bot ? "ca-msg-bot" : "ca-msg-user") }, [
      hiddenText(bot ? "Assistant: " : "You: ")
    ]);
    var body = el("span", { class: "ca-text" });
    appendRichText(body, entry.text || "");
    message.appendChild(body);
    (entry.links || []).forEach(function (link) {
      var href = safeUrl(link.url);
      if (href) {
        message.appendChild(
          el("span", { class: "ca-linkline" }, [externalLink(href, link.title, "ca-link")])
        );
      }
    });
    log.appendChild(message);
    if (entry.replies && entry.replies.length) {
      log.appendChild(renderReplies(entry.replies));
    }
  }

  function renderReplies(replies) {
    var group = el("div", {
      class: "ca-replies",
      role: "group",
      "aria-label": "Suggested replies"
    });
    replies.forEach(function (reply) {
      var button = el("button", { type: "button", class: "ca-button ca-reply" }, [reply.title]);
      button.addEventListener("click", function () {
        sendMessage(reply.payload, reply.title);
      });
      group.appendChild(button);
    });
    return group;
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function saveTranscript() {
    store(KEYS.transcript, JSON.stringify(transcript.slice(-MAX_STORED_MESSAGES)));
  }

  function addEntry(entry) {
    transcript.push(entry);
    saveTranscript();
    renderEntry(entry);
    scrollToEnd();
  }

  /* Quick replies are for the latest bot message only: once the user says anything, they go. */
  function clearReplies() {
    Array.prototype.slice.call(log.querySelectorAll(".ca-replies")).forEach(function (node) {
      node.remove();
    });
    transcript.forEach(function (entry) {
      entry.replies = [];
    });
  }

  function restoreTranscript() {
    var saved = [];
    try {
      saved = JSON.parse(load(KEYS.transcript) || "[]");
    } catch (err) {
      saved = [];
    }
    transcript = Array.isArray(saved)
      ? saved.filter(function (entry) {
          return (
            entry &&
            (entry.from === "bot" || entry.from === "user") &&
            typeof entry.text === "string"
          );
        })
      : [];
    if (!transcript.length) {
      transcript = [{ from: "bot", text: TEXT.intro, replies: INTRO_REPLIES.slice(), links: [] }];
      saveTranscript();
    }
    transcript.forEach(renderEntry);
  }

  // ---------------------------------------------------------------- status and typing

  function setStatus(text, kind) {
    statusLine.textContent = text || "";
    statusLine.className = "ca-status" + (kind ? " ca-status-" + kind : "");
  }

  function showTyping() {
    typing.hidden = false;
    window.clearTimeout(replyTimer);
    replyTimer = window.setTimeout(function () {
      typing.hidden = true;
      setStatus(TEXT.noReply, "warning");
    }, REPLY_WAIT_MS);
  }

  function hideTyping() {
    typing.hidden = true;
    window.clearTimeout(replyTimer);
  }

  /* idle (not opened yet) -> connecting -> ready | down; shown as data-state on the widget. */
  function setState(state) {
    ready = state === "ready";
    root.setAttribute("data-state", state);
  }

  function markDown() {
    setState("down");
    hideTyping();
    if (!wentDown) {
      wentDown = true;
      setStatus(TEXT.down, "error");
    }
  }

  // ---------------------------------------------------------------- talking to Rasa

  function rasaEndpoint() {
    var url = safeUrl(RASA_URL);
    if (!url) {
      return null;
    }
    var parsed = new URL(url);
    return { origin: parsed.origin, path: parsed.pathname.replace(/\/+$/, "") + "/socket.io/" };
  }

  function connect() {
    if (socket) {
      return;
    }
    var endpoint = rasaEndpoint();
    if (!endpoint || typeof window.io !== "function") {
      setState("down");
      setStatus(TEXT.cannotLoad, "error");
      return;
    }
    setState("connecting");
    setStatus(TEXT.connecting);
    socket = window.io(endpoint.origin, {
      path: endpoint.path,
      // WebSocket first (one connection, no CORS preflight); long polling if it is blocked.
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
      timeout: 10000
    });
    socket.on("connect", function () {
      socket.emit("session_request", { session_id: sessionId || null });
    });
    socket.on("session_confirm", function (data) {
      var id = typeof data === "string" ? data : data && data.session_id;
      if (typeof id !== "string" || !id) {
        return;
      }
      sessionId = id;
      store(KEYS.session, id);
      setState("ready");
      if (wentDown) {
        setStatus(TEXT.back);
      } else if (statusLine.textContent === TEXT.connecting) {
        setStatus("");
      }
      wentDown = false;
    });
    socket.on("bot_uttered", onBotMessage);
    socket.on("disconnect", function (reason) {
      if (reason === "io client disconnect") {
        setState("connecting"); // we closed it ourselves (Start again) and reconnect at once
        return;
      }
      markDown();
    });
    socket.on("connect_error", markDown);
  }

  function onBotMessage(data) {
    if (!data || typeof data !== "object") {
      return;
    }
    var entry = {
      from: "bot",
      text: typeof data.text === "string" ? data.text : "",
      replies: [],
      links: []
    };
    var buttons = Array.isArray(data.quick_replies) ? data.quick_replies : data.buttons;
    (Array.isArray(buttons) ? buttons : []).forEach(function (button) {
      if (!button || typeof button.title !== "string") {
        return;
      }
      var url =
        safeUrl(button.url || "") ||
        (typeof button.payload === "string" && safeUrl(button.payload));
      if (url) {
        entry.links.push({ title: button.title, url: url });
      } else if (typeof button.payload === "string") {
        entry.replies.push({ title: button.title, payload: button.payload });
      }
    });
    var attachment = data.attachment;
    if (attachment && attachment.payload && typeof attachment.payload.src === "string") {
      entry.links.push({
        title: attachment.type === "image" ? "Open the picture" : "Open the attachment",
        url: attachment.payload.src
      });
    }
    if (!entry.text && !entry.replies.length && !entry.links.length) {
      return;
    }
    hideTyping();
    if (statusLine.classList.contains("ca-status-warning")) {
      setStatus("");
    }
    addEntry(entry);
  }

  /* Send `message` to Rasa, showing `shown` (a button title) in the transcript if given.
   * Returns false, and keeps the draft, when the assistant is not reachable. */
  function sendMessage(message, shown) {
    var text = (message || "").trim();
    if (!text) {
      return false;
    }
    if (!ready || !socket) {
      setStatus(TEXT.notSent, "error");
      wentDown = true;
      return false;
    }
    clearReplies();
    addEntry({ from: "user", text: shown || text, replies: [], links: [] });
    socket.emit("user_uttered", {
      message: text,
      session_id: sessionId,
      customData: { page: window.location.pathname }
    });
    showTyping();
    return true;
  }

  function startAgain() {
    hideTyping();
    sessionId = null;
    store(KEYS.session, null);
    store(KEYS.transcript, null);
    store(KEYS.draft, null);
    input.value = "";
    log.textContent = "";
    restoreTranscript();
    if (socket) {
      // A fresh socket leaves the old conversation's room and asks for a new session id.
      setState("connecting");
      socket.disconnect();
      socket.connect();
    }
    setStatus(TEXT.restarted);
    input.focus();
  }

  // ---------------------------------------------------------------- open and close

  function openPanel(moveFocus) {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    store(KEYS.open, "1");
    scrollToEnd();
    if (moveFocus) {
      input.focus();
    }
    loadSocketIo();
  }

  function closePanel() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    store(KEYS.open, null);
    launcher.focus();
  }

  var socketIoRequested = false;
  function loadSocketIo() {
    if (socketIoRequested) {
      return;
    }
    socketIoRequested = true;
    if (typeof window.io === "function") {
      connect();
      return;
    }
    var tag = el("script", { src: SOCKET_IO_SRC });
    tag.addEventListener("load", connect);
    tag.addEventListener("error", function () {
      setState("down");
      setStatus(TEXT.cannotLoad, "error");
    });
    document.head.appendChild(tag);
  }

  function start() {
    build();
    restoreTranscript();
    document.documentElement.classList.add("ca-has-widget");
    document.body.appendChild(root);
    document.body.appendChild(dialog);
    if (load(KEYS.open)) {
      openPanel(false);
    }
  }

  // Show the widget once its styles are in, so it never flashes up unstyled.
  var css = el("link", { rel: "stylesheet", href: new URL("widget.css", ASSET_BASE).href });
  css.addEventListener("load", start);
  css.addEventListener("error", start);
  document.head.appendChild(css);
})();
