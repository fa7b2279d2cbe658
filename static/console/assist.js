// Reply suggestions: a click inserts one into the reply (never sends it); when the reply is
// sent, the suggestion is recorded as accepted (sent as inserted) or edited.
(function () {
  "use strict";

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-suggestion]");
    if (!button) return;
    const form = document.querySelector(".composer-form--reply");
    if (!form) return;
    const textarea = form.querySelector("textarea");
    textarea.value = button.dataset.text;
    textarea.focus();
    form.dataset.suggestionSource = button.dataset.source;
    form.dataset.suggestionSourceId = button.dataset.sourceId;
    form.dataset.suggestionText = button.dataset.text;
    form.dataset.suggestionFeedbackUrl = button.closest("[data-feedback-url]").dataset.feedbackUrl;
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest(".composer-form--reply");
    if (!form || !form.dataset.suggestionSource) return;
    const sent = form.querySelector("textarea").value.trim();
    const body = new FormData();
    body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    body.append("source", form.dataset.suggestionSource);
    body.append("source_id", form.dataset.suggestionSourceId);
    body.append("action", sent === form.dataset.suggestionText.trim() ? "accepted" : "edited");
    fetch(form.dataset.suggestionFeedbackUrl, { method: "POST", body: body, credentials: "same-origin" });
    delete form.dataset.suggestionSource;
  }, true);
})();
