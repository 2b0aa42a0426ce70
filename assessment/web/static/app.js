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
  // A wide table's scroll box is a Tab stop, so that the keyboard can scroll it; where the table
  // fits, nothing scrolls and the stop is only in the way.
  tabStopsWhereTablesScroll();
  window.addEventListener("resize", tabStopsWhereTablesScroll);
  // Select the whole invitation link on focus, ready to copy.
  document.querySelectorAll("input.copy").forEach((input) => input.addEventListener("focus", () => input.select()));
  // The forms are novalidate (the server's messages are the ones shown), so the submit is held here.
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach((input) => {
    input.addEventListener("change", () => checkFileSize(input));
    input.form.addEventListener("submit", (event) => {
      if (checkFileSize(input)) {
        event.preventDefault();
        input.focus();
      }
    });
  });
  // Pages that change while open (a workshop dashboard, a report being rendered) update in place.
  const source = document.querySelector("[data-live-from]");
  if (source) updateInPlace(source);
  keepDrafts();
});

// A request over the server's limit is refused unread, so only the browser can name the file that was
// too large: it does so beside the field, as the server shows its errors. Returns that message, or "".
function checkFileSize(input) {
  const limit = Number(input.dataset.maxBytes);
  const file = input.files[0];
  const message = file && file.size > limit
    ? `${file.name} is ${fileSize(file.size)}; this server accepts files of at most ${fileSize(limit)}.` : "";
  const id = `${input.id}-size`;
  const field = input.closest(".field");
  const describedBy = (input.getAttribute("aria-describedby") || "").split(" ").filter((each) => each && each !== id);
  document.getElementById(id)?.remove();
  const serverErrors = field.querySelector(".field-errors");
  field.classList.toggle("has-error", Boolean(message || serverErrors));
  if (message || serverErrors) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  if (message) {
    const alert = document.createElement("p");
    alert.className = "field-errors";
    alert.id = id;
    alert.setAttribute("role", "alert");
    const prefix = document.createElement("span");
    prefix.className = "visually-hidden";
    prefix.textContent = "Error: ";
    alert.append(prefix, message);
    input.before(alert);
    describedBy.push(id);
  }
  if (describedBy.length) input.setAttribute("aria-describedby", describedBy.join(" "));
  else input.removeAttribute("aria-describedby");
  return message;
}

function fileSize(bytes) {
  for (const [unit, scale] of [["MiB", 1024 * 1024], ["KiB", 1024]]) {
    if (bytes >= scale) return `${(bytes / scale).toFixed(1).replace(/\.0$/, "")} ${unit}`;
  }
  return `${bytes} bytes`;
}

function tabStopsWhereTablesScroll() {
  document.querySelectorAll(".table-scroll[tabindex]").forEach((box) => {
    box.tabIndex = box.scrollWidth > box.clientWidth ? 0 : -1;
  });
}

// Every few seconds, fetch the page again (from ``data-live-from``) and swap in the parts marked data-live:
// who joined and each question's distribution, or a report's progress. Nothing reloads, so what is being
// typed stays, and so does the focus: a part holding it waits for the next round. Updates run from the
// start (``data-live-auto``) or while the page's toggle button is pressed, and end when the fetched page
// no longer has a source (the report is ready). ``data-live-changed`` is what the source's status says
// when a part changed; a part that is a status region itself is announced anyway. A select marked
// ``data-live-default`` (outside the parts, in a form) takes the fresh page's options and default, so that
// the level offered follows the figures shown, unless it was changed or its form holds the focus.
function updateInPlace(source) {
  const from = source.dataset.liveFrom;
  const toggle = document.querySelector("[data-live-toggle]");
  const remembered = "live:" + from;  // the button's choice outlasts recording a consensus
  let timer = null;

  async function update() {
    if (document.hidden) return;
    let fresh;
    try {
      const response = await fetch(from, { credentials: "same-origin", cache: "no-store" });
      if (response.redirected && new URL(response.url).searchParams.has("next")) {
        sessionEnded(new URL(response.url));
        return;
      }
      if (!response.ok || response.redirected) throw new Error(`HTTP ${response.status}`);
      fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    } catch {
      stop("Updates stopped: the page could not be fetched. Reload it to try again.");
      return;
    }
    let changed = false;
    let waiting = false;
    document.querySelectorAll("[data-live]").forEach((part) => {
      const now = fresh.querySelector(`[data-live="${CSS.escape(part.dataset.live)}"]`);
      if (!now || now.innerHTML === part.innerHTML) return;
      if (part.contains(document.activeElement)) {
        waiting = true;
        return;
      }
      part.innerHTML = now.innerHTML;
      changed = true;
    });
    document.querySelectorAll("select[data-live-default]").forEach((select) => {
      const now = fresh.getElementById(select.id);
      if (!now || now.innerHTML === select.innerHTML) return;
      if (select.form.contains(document.activeElement)) {
        waiting = true;
        return;
      }
      if (select.selectedIndex !== [...select.options].findIndex((option) => option.defaultSelected)) return;
      select.innerHTML = now.innerHTML;
      changed = true;
    });
    if (changed) tabStopsWhereTablesScroll();
    if (!fresh.querySelector("[data-live-from]") && !waiting) stop("");
    else if (changed && source.dataset.liveChanged) {
      source.textContent = `${source.dataset.liveChanged} ${new Date().toLocaleTimeString()}.`;
    }
  }

  function start() {
    timer = setInterval(update, Number(source.dataset.liveEvery) * 1000);
    if (!toggle) return;
    toggle.setAttribute("aria-pressed", "true");
    source.textContent = `Updating every ${source.dataset.liveEvery} seconds.`;
  }

  function stop(message, forget = true) {
    clearInterval(timer);
    timer = null;
    if (toggle) toggle.setAttribute("aria-pressed", "false");
    if (forget) sessionStorage.removeItem(remembered);
    source.textContent = message;
  }

  // The only redirect with a ``next`` is the log-in's (the session has ended): say so, with a link that
  // returns here, rather than stop unexplained. The button's choice is kept, so updates go on once back.
  function sessionEnded(login) {
    stop("Your session has ended, so updates stopped: ", false);
    login.search = new URLSearchParams({ next: location.pathname + location.search });
    const link = document.createElement("a");
    link.href = login.href;
    link.textContent = "Log in again";
    source.append(link, ".");
  }

  document.addEventListener("visibilitychange", () => { if (timer) update(); });
  if (toggle) {
    document.querySelector("[data-live-fallback]").hidden = true;  // its ?auto=1 reloads the page
    toggle.hidden = false;
    toggle.addEventListener("click", () => {
      if (timer) {
        stop("Updates stopped.");
        return;
      }
      start();
      sessionStorage.setItem(remembered, "on");
    });
  }
  if ("liveAuto" in source.dataset || sessionStorage.getItem(remembered)) start();
}

// Drafts: what was typed on a journey page, a workshop consensus or a participant's page, kept in this tab's
// sessionStorage when its form is sent, in case the save is refused because the session has ended or never
// arrives (a phone without signal). The page a save leads to names the page saved (<meta name="draft-saved">),
// whose draft is then forgotten; back on a page with a draft, a button offers to restore it, never unasked.
// A draft is its typist's alone (<meta name="draft-user">: "account:<id>" or "participant:<key>"), kept
// under its typist and page (draftKey), so that an account's journey and a participant's page in one tab
// keep each other's. A page forgets the drafts of another typist of its own kind (someone else logged in,
// the next participant on a shared phone), and logging out forgets them all.
const DRAFT = "draft:";

function keepDrafts() {
  const user = document.querySelector('meta[name="draft-user"]')?.content;
  if (user) {
    document.querySelectorAll('meta[name="draft-saved"]').forEach((saved) => {
      sessionStorage.removeItem(draftKey(user, saved.content));
    });
    forgetDrafts((draft) => draft.user !== user && kindOf(draft.user) === kindOf(user));
  }
  document.querySelectorAll("form[data-forget-drafts]").forEach((form) => {
    form.addEventListener("submit", () => forgetDrafts(() => true));
  });
  // The log-in page, and the error page of a form refused once the session cookie had expired too: they
  // name no typist, so any draft of that page counts.
  document.querySelectorAll("[data-draft-for]").forEach((note) => {
    note.hidden = !Object.keys(sessionStorage).some((key) => key.startsWith(DRAFT)
      && key.endsWith(` ${note.dataset.draftFor}`));
  });
  if (!user) return;
  // A page may hold several (the workshop dashboard's consensus forms): each is kept under the address
  // it is sent to, which the log-in's ``next`` and the page a save leads to (draft-saved) name.
  document.querySelectorAll("form[data-draft]").forEach((form) => {
    const key = draftKey(user, new URL(form.getAttribute("action"), location.href).pathname);
    form.addEventListener("submit", () => sessionStorage.setItem(key,
      JSON.stringify({ user, at: Date.now(), fields: typedInto(form) })));
    if (form.dataset.draft === "offer") offerDraft(form, key);
  });
}

// Paths hold no space (the browser encodes it), so the typist before the space is never part of the path.
function draftKey(user, path) {
  return `${DRAFT}${user} ${path}`;
}

function kindOf(user) {
  return String(user).split(":")[0];
}

function forgetDrafts(which) {
  for (const key of Object.keys(sessionStorage)) {
    if (key.startsWith(DRAFT) && which(JSON.parse(sessionStorage.getItem(key)))) sessionStorage.removeItem(key);
  }
}

// The form's fields as [name, value] pairs; the CSRF token is the session's, and a new session has its own.
function typedInto(form) {
  return [...new FormData(form)].filter(([name]) => name !== "csrf_token");
}

function offerDraft(form, key) {
  const draft = JSON.parse(sessionStorage.getItem(key));
  if (!draft) return;
  if (sameInput(draft.fields, typedInto(form))) {  // nothing to restore: the page shows it already
    sessionStorage.removeItem(key);
    return;
  }
  const when = new Date(draft.at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  const offer = document.createElement("div");
  offer.className = "notice warning draft-offer";
  offer.innerHTML = '<p tabindex="-1"></p><div class="actions"><button type="button" class="primary"></button>'
    + '<button type="button" class="secondary">Discard it</button></div>';
  const [message, [restoring, discarding]] = [offer.querySelector("p"), offer.querySelectorAll("button")];
  message.textContent = `What you typed on this page on ${when} was not saved.`;
  restoring.textContent = `Restore what you typed on ${when}`;
  nameFor(form, [restoring, discarding]);
  restoring.addEventListener("click", () => {
    fill(form, draft.fields);
    message.textContent = `Restored what you typed on ${when}. It is not saved until you save this page.`;
    offer.querySelector(".actions").remove();
    message.focus();
  });
  discarding.addEventListener("click", () => {
    sessionStorage.removeItem(key);
    offer.remove();
  });
  form.before(offer);
}

// A page of several such forms (the workshop dashboard's, one per question) names what each is for
// (data-draft-name), in words only a screen reader says: its list of buttons read "Restore what you typed
// on …" once per draft, alike.
function nameFor(form, buttons) {
  if (!form.dataset.draftName) return;
  for (const button of buttons) {
    const which = document.createElement("span");
    which.className = "visually-hidden";
    which.textContent = ` for ${form.dataset.draftName}`;
    button.append(which);
  }
}

// The stamp of what was stored when the page was loaded ("loaded") differs after any save, and says
// nothing of what was typed.
function sameInput(kept, onPage) {
  const typed = (fields) => JSON.stringify(fields.filter(([name]) => name !== "loaded"));
  return typed(kept) === typed(onPage);
}

// Each field as the draft has it: a choice not in it is cleared, as it was when the form was sent. The
// draft's "loaded" stamp goes back too, so that a save over someone else's since is held, not made.
// A field that changed is shown: the evidence notes are in closed <details>.
function fill(form, fields) {
  for (const field of form.elements) {
    if (!field.name || field.name === "csrf_token" || field.type === "submit" || field.type === "button") continue;
    const values = fields.filter(([name]) => name === field.name).map(([, value]) => value);
    if (restore(field, values)) field.closest("details")?.setAttribute("open", "");
  }
}

// Set the field to the draft's values; whether that changed it.
function restore(field, values) {
  const before = shown(field);
  if (field.type === "radio" || field.type === "checkbox") field.checked = values.includes(field.value);
  else if (field.type === "select-multiple") {
    [...field.options].forEach((option) => { option.selected = values.includes(option.value); });
  } else if (values.length) field.value = values[0];
  return shown(field) !== before;
}

function shown(field) {
  if (field.type === "radio" || field.type === "checkbox") return field.checked;
  if (field.type === "select-multiple") return [...field.selectedOptions].map((option) => option.value).join("\n");
  return field.value;
}
