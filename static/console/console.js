// The console's page behaviour that htmx attributes cannot express: toasts, notifications,
// ticking countdowns, tag colours, the composer's tabs and canned replies. No inline scripts
// or styles exist (the CSP forbids them): everything is wired here from data attributes.
(function () {
  "use strict";

  const root = document.getElementById("console");
  const helpdesk = (window.helpdesk = {
    userId: Number(root.dataset.userId),
    icons: root.dataset.icons,
  });

  // --- Toasts and notifications -----------------------------------------------------------

  helpdesk.toast = function (message, { kind = "info", link = null } = {}) {
    const toast = document.createElement("div");
    toast.className = `toast toast--${kind}`;
    toast.setAttribute("role", kind === "error" ? "alert" : "status");
    const text = document.createElement("span");
    text.textContent = message;
    toast.append(text);
    if (link) {
      const anchor = document.createElement("a");
      anchor.href = link.href;
      anchor.textContent = link.label;
      toast.append(anchor);
    }
    document.getElementById("toasts").append(toast);
    setTimeout(() => toast.remove(), kind === "error" ? 8000 : 6000);
  };

  // In-page always; through the browser too when the agent allowed it and looks elsewhere.
  helpdesk.notify = function (message, href) {
    helpdesk.toast(message, { link: href ? { href, label: "Open" } : null });
    if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
      const notification = new Notification("Helpdesk", { body: message, tag: href || message });
      notification.addEventListener("click", () => {
        window.focus();
        if (href) window.location.assign(href);
      });
    }
  };

  const enable = document.getElementById("notifications-enable");
  if ("Notification" in window && Notification.permission === "default") {
    enable.hidden = false;
    enable.addEventListener("click", () =>
      Notification.requestPermission().then(() => {
        enable.hidden = true;
      }),
    );
  }

  // Errors htmx does not swap: a domain error's JSON message, or a generic one.
  document.body.addEventListener("htmx:responseError", (event) => {
    let message = `The server answered ${event.detail.xhr.status}.`;
    try {
      message = JSON.parse(event.detail.xhr.responseText).message || message;
    } catch (_) {
      // not JSON: keep the generic message
    }
    helpdesk.toast(message, { kind: "error" });
  });
  document.body.addEventListener("htmx:sendError", () =>
    helpdesk.toast("The server cannot be reached. Retrying when it is back.", { kind: "error" }),
  );

  // --- Time that moves: "5m" ago, SLA countdowns, the messaging window ---------------------

  function span(seconds) {
    seconds = Math.floor(Math.abs(seconds));
    for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]]) {
      if (seconds >= size) return `${Math.floor(seconds / size)}${unit}`;
    }
    return `${seconds}s`;
  }

  function tick(scope) {
    const now = Date.now();
    scope.querySelectorAll("[data-ago]").forEach((element) => {
      const elapsed = (now - Date.parse(element.dataset.ago)) / 1000;
      element.textContent = elapsed < 60 ? "now" : span(elapsed);
    });
    scope.querySelectorAll("[data-deadline]").forEach((element) => {
      const left = (Date.parse(element.dataset.deadline) - now) / 1000;
      const text = element.querySelector(".sla-text") || element;
      text.textContent = left > 0 ? `${span(left)} left` : `overdue ${span(left)}`;
      if (left <= 0) element.classList.replace("sla--warning", "sla--breached");
    });
  }

  // --- Decorating swapped content ---------------------------------------------------------

  const HEX_COLOUR = /^#[0-9a-fA-F]{3,8}$/;

  function decorate(scope) {
    scope.querySelectorAll(".tag[data-color]").forEach((tag) => {
      if (HEX_COLOUR.test(tag.dataset.color)) tag.style.setProperty("--tag", tag.dataset.color);
    });
    tick(scope);
  }

  helpdesk.openConversationId = function () {
    const pane = document.getElementById("conversation-pane");
    return pane && pane.dataset.conversationId ? Number(pane.dataset.conversationId) : null;
  };

  function markActiveRow() {
    const open = helpdesk.openConversationId();
    document.querySelectorAll("#conversation-list .row").forEach((row) => {
      row.classList.toggle("is-active", Number(row.dataset.conversationId) === open);
    });
  }

  function threadAtBottom(thread) {
    return thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
  }

  helpdesk.scrollThread = function (force) {
    const thread = document.querySelector(".thread");
    if (thread && (force || threadAtBottom(thread))) thread.scrollTop = thread.scrollHeight;
  };

  // A refreshed thread keeps the reader where they were: at the bottom, following new
  // messages, or wherever they had scrolled up to.
  let threadScroll = null;
  helpdesk.beforeReplace = function (target) {
    if (target && target.classList.contains("thread")) {
      threadScroll = threadAtBottom(target) ? null : target.scrollTop;
    }
  };
  document.body.addEventListener("htmx:beforeSwap", (event) => helpdesk.beforeReplace(event.detail.target));

  // After any swap: colours and times in the new markup, the list's highlighted row, and,
  // when another conversation is now open, its thread scrolled down and its watchers told.
  let shownConversation = helpdesk.openConversationId();
  function settled(element) {
    decorate(document);
    markActiveRow();
    const open = helpdesk.openConversationId();
    if (open !== shownConversation) {
      shownConversation = open;
      helpdesk.scrollThread(true);
      document.dispatchEvent(new CustomEvent("helpdesk:conversation-opened"));
    } else if (element && element.classList && element.classList.contains("thread")) {
      if (threadScroll === null) helpdesk.scrollThread(true);
      else element.scrollTop = threadScroll;
    }
  }
  document.body.addEventListener("htmx:afterSettle", (event) => settled(event.detail.elt));
  document.body.addEventListener("htmx:historyRestore", () => settled(null));

  // --- The composer: tabs, canned replies, Ctrl+Enter --------------------------------------

  document.addEventListener("click", (event) => {
    const tab = event.target.closest("[data-composer-tab]");
    if (!tab) return;
    helpdesk.composerTab(tab.dataset.composerTab);
  });

  helpdesk.composerTab = function (name) {
    const composer = document.querySelector(".composer");
    if (!composer) return null;
    composer.querySelectorAll("[data-composer-tab]").forEach((tab) => {
      tab.setAttribute("aria-selected", String(tab.dataset.composerTab === name));
    });
    composer.querySelectorAll("[data-composer]").forEach((form) => {
      form.hidden = form.dataset.composer !== name;
    });
    const textarea = composer.querySelector(`[data-composer="${name}"] textarea`);
    if (textarea) textarea.focus();
    return textarea;
  };

  document.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-canned]");
    if (!select || !select.value) return;
    const text = select.selectedOptions[0].dataset.text;
    const textarea = select.form.querySelector("textarea");
    const start = textarea.selectionStart;
    textarea.setRangeText(text, start, textarea.selectionEnd, "end");
    textarea.focus();
    select.value = "";
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    const form = event.target.closest(".composer-form");
    if (!form) return;
    event.preventDefault();
    form.requestSubmit();
  });

  // After a reply or a note, refresh the thread; after reading, the row's unread badge.
  document.body.addEventListener("thread-changed", (event) => {
    helpdesk.refreshThread(event.detail.id);
  });
  document.body.addEventListener("conversation-read", (event) => {
    helpdesk.refreshRow(event.detail.id);
  });

  decorate(document);
  markActiveRow();
  helpdesk.scrollThread(true);
  setInterval(() => tick(document), 15000);
})();
