// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Ask before destructive buttons (delete, remove a member).
  document.querySelectorAll("[data-confirm]").forEach((button) => {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });
  // Bring a form's error summary into view and focus, so screen readers announce it.
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
  // Select the whole invitation link on focus, ready to copy.
  document.querySelectorAll("input.copy").forEach((input) => input.addEventListener("focus", () => input.select()));
});
