// Keyboard shortcuts. Single keys act only outside text fields, so typing is never hijacked;
// Ctrl+Enter (send) is handled by console.js inside the composer.
(function () {
  "use strict";

  const helpdesk = window.helpdesk;
  const help = document.getElementById("shortcuts");

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function openSibling(step) {
    const rows = [...document.querySelectorAll("#conversation-list .row")];
    if (!rows.length) return;
    const current = rows.findIndex((row) => row.classList.contains("is-active"));
    const next = current === -1 ? 0 : Math.min(rows.length - 1, Math.max(0, current + step));
    rows[next].click();
    rows[next].scrollIntoView({ block: "nearest" });
  }

  const keys = {
    j: () => openSibling(1),
    k: () => openSibling(-1),
    e: () => document.getElementById("resolve")?.click(), // present only while it is active
    r: () => helpdesk.composerTab("reply"),
    n: () => helpdesk.composerTab("note"),
    "/": () => document.getElementById("search")?.focus(),
    "?": () => (help.open ? help.close() : help.showModal()),
  };

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && typing(event.target)) {
      event.target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const action = keys[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  document.getElementById("shortcuts-open").addEventListener("click", () => help.showModal());
})();
