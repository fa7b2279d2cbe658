// Live updates over the console's websocket. Events carry ids only; each one makes the page
// fetch the fragments it affects through the normal, permission-checked views, and every
// fetch replaces a whole fragment. So an event that arrives twice (through two groups, or
// again after a reconnect) changes nothing the second time, and a reconnect catches up by
// refetching what is on screen.
(function () {
  "use strict";

  const helpdesk = window.helpdesk;
  const root = document.getElementById("console");
  const connection = document.getElementById("connection");

  // --- Fetching fragments: one request per fragment at a time, then once more if asked
  // again meanwhile, so a burst of events costs two requests, not one per event.

  const running = new Map();

  function refresh(key, fetchFragment) {
    if (running.has(key)) {
      running.set(key, true);
      return;
    }
    running.set(key, false);
    Promise.resolve(fetchFragment())
      .catch(() => {}) // a failed refresh is retried by the next event or the next reconnect
      .finally(() => {
        const again = running.get(key);
        running.delete(key);
        if (again) refresh(key, fetchFragment);
      });
  }

  // Fetched directly rather than with htmx.ajax: htmx lets one element issue one request at
  // a time and drops the rest, and refreshes of several fragments at once are the point here.
  async function swap(url, selector) {
    if (!document.querySelector(selector)) return;
    const response = await fetch(url, {
      headers: { "HX-Request": "true", "HX-Target": selector.slice(1), "HX-Current-URL": window.location.href },
      credentials: "same-origin",
    });
    if (response.status === 404) return; // no longer visible to this user: leave it as it is
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const html = await response.text();
    const current = document.querySelector(selector);
    if (!current) return;
    helpdesk.beforeReplace(current);
    htmx.swap(current, html, { swapStyle: "outerHTML", swapDelay: 0, settleDelay: 0 });
  }

  function conversationUrl(id) {
    const pane = document.getElementById("conversation-pane");
    return pane && Number(pane.dataset.conversationId) === id ? pane.dataset.conversationUrl : null;
  }

  helpdesk.refreshList = () =>
    refresh("list", () => swap(window.location.pathname + window.location.search, "#conversation-list"));

  helpdesk.refreshRow = (id) => {
    const row = document.getElementById(`conversation-${id}`);
    if (!row) return;
    refresh(`row-${id}`, () => swap(`${row.dataset.rowUrl}${window.location.search}`, `#conversation-${id}`));
  };

  helpdesk.refreshThread = (id) => {
    const url = conversationUrl(id);
    if (url) refresh(`thread-${id}`, () => swap(url, `#thread-${id}`));
  };

  function refreshHeader(id) {
    const url = conversationUrl(id);
    if (url) refresh(`header-${id}`, () => swap(url, `#conversation-header-${id}`));
  }

  // The customer panel shows the conversation's first reply and the customer's history.
  function refreshPanel(id) {
    const url = conversationUrl(id);
    if (url) refresh(`panel-${id}`, () => swap(url, `#customer-panel-${id}`));
  }

  function refreshMessage(id, messageId) {
    const url = conversationUrl(id);
    if (!url) return;
    if (!document.getElementById(`message-${messageId}`)) {
      helpdesk.refreshThread(id);
      return;
    }
    refresh(`message-${messageId}`, () => swap(`${url}messages/${messageId}/`, `#message-${messageId}`));
  }

  function markRead(id) {
    const pane = document.getElementById("conversation-pane");
    if (document.hidden || !pane) return;
    htmx.ajax("POST", `${pane.dataset.conversationUrl}read/`, { swap: "none", source: pane });
  }

  // --- Domain events -------------------------------------------------------------------

  function assignedToMe(id) {
    const row = document.getElementById(`conversation-${id}`);
    return row && Number(row.dataset.assigneeId) === helpdesk.userId;
  }

  function conversationHref(id) {
    return `/console/conversations/${id}/`;
  }

  const handlers = {
    "message-created": (event) => {
      helpdesk.refreshList();
      if (helpdesk.openConversationId() === event.conversation_id) {
        helpdesk.refreshThread(event.conversation_id);
        markRead(event.conversation_id);
      }
    },
    "message-status": (event) => {
      refreshMessage(event.conversation_id, event.message_id);
      refreshPanel(event.conversation_id);
    },
    "message-changed": (event) => refreshMessage(event.conversation_id, event.message_id),
    "note-created": (event) => {
      helpdesk.refreshThread(event.conversation_id);
      const mentioned = String(event.mentioned || "").split(",").map(Number);
      if (mentioned.includes(helpdesk.userId)) {
        helpdesk.notify("A teammate mentioned you in a note.", conversationHref(event.conversation_id));
      }
    },
    "conversation-assigned": (event) => {
      conversationChanged(event);
      if (event.agent_id === helpdesk.userId) {
        helpdesk.notify("A conversation was assigned to you.", conversationHref(event.conversation_id));
      }
    },
    "sla-warning": (event) => slaEvent(event, "is close to its SLA deadline"),
    "sla-breached": (event) => slaEvent(event, "has missed its SLA deadline"),
  };

  function conversationChanged(event) {
    helpdesk.refreshList();
    if (helpdesk.openConversationId() === event.conversation_id) refreshHeader(event.conversation_id);
  }

  function slaEvent(event, what) {
    conversationChanged(event);
    if (assignedToMe(event.conversation_id)) {
      helpdesk.notify(`A conversation of yours ${what}.`, conversationHref(event.conversation_id));
    }
  }

  function handle(event) {
    if (event.event === "viewer") {
      viewers.update(event);
      return;
    }
    // Unknown kinds (queued, changed, escalated...) still change what the list shows.
    (handlers[event.event] || conversationChanged)(event);
  }

  // --- Who else is here: viewing or typing in the open conversation ---------------------

  const TYPING_SHOWN_MS = 6000;
  const VIEWER_EXPIRES_MS = 70000; // each console repeats "viewing" every 25 s
  const viewers = {
    present: new Map(), // user id -> {name, typingUntil, seenAt}

    update(event) {
      if (event.user_id === helpdesk.userId || event.conversation_id !== helpdesk.openConversationId()) return;
      if (event.state === "left") {
        this.present.delete(event.user_id);
      } else {
        const known = this.present.get(event.user_id) || { typingUntil: 0 };
        this.present.set(event.user_id, {
          name: event.name,
          seenAt: Date.now(),
          typingUntil: event.state === "typing" ? Date.now() + TYPING_SHOWN_MS : known.typingUntil,
        });
      }
      this.render();
    },

    reset() {
      this.present.clear();
      this.render();
    },

    render() {
      const bar = document.getElementById("viewers");
      if (!bar) return;
      const now = Date.now();
      const list = bar.querySelector(".viewers-list");
      list.replaceChildren();
      for (const [userId, viewer] of this.present) {
        if (now - viewer.seenAt > VIEWER_EXPIRES_MS) {
          this.present.delete(userId);
          continue;
        }
        const name = document.createElement("span");
        name.className = "viewer";
        name.classList.toggle("is-typing", viewer.typingUntil > now);
        name.dataset.userId = userId;
        name.textContent = viewer.name;
        if (list.childElementCount) list.append(", ");
        list.append(name);
      }
      bar.hidden = this.present.size === 0;
    },
  };
  setInterval(() => viewers.render(), 2000);

  // --- The socket ------------------------------------------------------------------------

  let socket = null;
  let attempts = 0;
  let everConnected = false;
  let retry = null;

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function watchOpenConversation() {
    viewers.reset();
    const id = helpdesk.openConversationId();
    send(id ? { action: "watch", conversation: id } : { action: "unwatch" });
  }

  function setState(state, label) {
    connection.dataset.state = state;
    connection.textContent = label;
  }

  function connect() {
    clearTimeout(retry);
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const current = new WebSocket(`${scheme}://${window.location.host}${root.dataset.socketPath}`);
    socket = current;
    current.addEventListener("open", () => {
      setState("open", "Live");
      attempts = 0;
      watchOpenConversation();
      if (everConnected) catchUp();
      everConnected = true;
    });
    current.addEventListener("message", (message) => handle(JSON.parse(message.data)));
    current.addEventListener("close", () => {
      if (current !== socket) return; // dropped when the browser went offline: already handled
      setState("closed", "Reconnecting…");
      // Back off 1, 2, 4 ... 15 s, with jitter so that a restarted server is not stampeded.
      const delay = Math.min(15000, 1000 * 2 ** attempts) * (0.75 + Math.random() / 2);
      attempts += 1;
      retry = setTimeout(connect, delay);
    });
  }

  // A socket can outlive the network quietly, and offline its closing handshake cannot
  // finish: drop it at once when the browser goes offline, and connect again as soon as the
  // network is back rather than at the next backoff step.
  window.addEventListener("offline", () => {
    const dropped = socket;
    socket = null;
    clearTimeout(retry);
    setState("closed", "Offline");
    if (dropped) dropped.close();
  });
  window.addEventListener("online", () => {
    if (!socket || socket.readyState === WebSocket.CLOSED) connect();
  });

  // What changed while the socket was down is on screen in the list and the open
  // conversation: fetch them whole again.
  function catchUp() {
    helpdesk.refreshList();
    const id = helpdesk.openConversationId();
    if (id) {
      helpdesk.refreshThread(id);
      refreshHeader(id);
      refreshPanel(id);
    }
  }

  document.addEventListener("helpdesk:conversation-opened", watchOpenConversation);
  setInterval(() => {
    if (helpdesk.openConversationId()) send({ action: "viewing" });
  }, 25000);

  // Typing in the composer, told at most every 2.5 s.
  let typingSentAt = 0;
  document.addEventListener("input", (event) => {
    if (!event.target.matches(".composer textarea")) return;
    if (Date.now() - typingSentAt < 2500) return;
    typingSentAt = Date.now();
    send({ action: "typing" });
  });

  connect();
})();
