// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Bring a form's error summary into view and focus, so screen readers announce it.
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
  // The journey's steps scroll sideways on a narrow screen: bring the current one into view
  // (by scrolling that row alone, never the page).
  const row = document.querySelector(".steps ol");
  const current = row && row.querySelector("[aria-current]");
  if (current && row.scrollWidth > row.clientWidth) {
    const item = current.parentElement;
    row.scrollLeft = item.offsetLeft - (row.clientWidth - item.offsetWidth) / 2;
  }
  // Select the whole invitation link on focus, ready to copy.
  document.querySelectorAll("input.copy").forEach((input) => input.addEventListener("focus", () => input.select()));
});
