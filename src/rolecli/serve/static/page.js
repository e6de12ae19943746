// Optional: the page works without this script, as plain form posts. With it:
// - the posting is scored as it is written: each pause in typing (or a second of steady
//   typing) sends the text to /live, cancelling the update before it, and the result is
//   swapped in beside the text, leaving the caret, the scroll and the open folds as they were;
// - "What if this line were gone?" (a click on a decided line, or its button) scores the
//   text again without that line, through the same /live;
// - a file, and a spreadsheet, are sent with fetch (no reload), refused before the upload
//   when over the size limit, and may be dropped anywhere on their form.
"use strict";

const DEBOUNCE_MS = 250;
const MAX_WAIT_MS = 1000;
const MIB = 1048576;

const form = document.querySelector("form.ask");
const button = form.querySelector("button[type=submit]");
const fileInput = form.elements.namedItem("file");
const textArea = form.elements.namedItem("text");
const titleInput = form.elements.namedItem("title");
const tokenInput = form.elements.namedItem("token");
const limit = Number(form.dataset.maxBytes);
const liveChars = Number(form.dataset.liveChars);
const liveStatus = document.getElementById("live-status");
const announcer = document.getElementById("announce");

const result = () => document.getElementById("result");

// What the result on show was scored from: "what if" answers are about that text.
let shown = { text: null, title: null, label: undefined };

function card(className, heading, message, role) {
  const section = document.createElement("section");
  section.className = `card ${className}`;
  if (role) section.setAttribute("role", role);
  const h2 = document.createElement("h2");
  h2.textContent = heading;
  const p = document.createElement("p");
  p.textContent = message;
  section.append(h2, p);
  return section;
}

function showError(message, focus = false) {
  const target = result();
  target.className = "";
  target.replaceChildren(card("alert", "Could not check the posting", message, "alert"));
  shown = { text: null, title: null, label: undefined };
  if (focus) target.focus();
}

function showWaiting() {
  const target = result();
  target.className = "";
  target.replaceChildren(card("waiting", "The verdict shows here",
    "Paste or type a posting: the verdict, the title check and the lines that decided it " +
    "appear here and follow your edits."));
  shown = { text: null, title: null, label: undefined };
  setStatus("");
}

function setStatus(message) {
  liveStatus.textContent = message;
  liveStatus.hidden = !message;
}

function announce(label, heading) {
  // Screen readers hear the verdict when it changes, not on every keystroke.
  if (label !== shown.label) announcer.textContent = `Verdict: ${heading}`;
}

class NeedsToken extends Error {}

async function score(body, signal) {
  const headers = { "Content-Type": "application/json" };
  if (tokenInput) {
    if (!tokenInput.value) throw new NeedsToken("Enter the access token to score as you type.");
    headers.Authorization = `Bearer ${tokenInput.value}`;
  }
  const response = await fetch("/live", {
    method: "POST", headers, body: JSON.stringify(body), signal,
  });
  let data;
  try {
    data = await response.json();
  } catch {
    throw new Error(`the server answered ${response.status}`);
  }
  if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
  return data;
}

// -- live scoring ---------------------------------------------------------------------------

let timer = null;
let firstChange = 0;
let inFlight = null;
let sequence = 0;

function schedule() {
  const now = performance.now();
  if (timer === null) firstChange = now;
  else clearTimeout(timer);
  const wait = Math.max(0, Math.min(DEBOUNCE_MS, firstChange + MAX_WAIT_MS - now));
  timer = setTimeout(() => { timer = null; update(false); }, wait);
}

async function update(focus) {
  if (timer !== null) { clearTimeout(timer); timer = null; }
  if (inFlight) inFlight.abort();  // its answer would be about text that is gone
  inFlight = null;
  const mine = ++sequence;
  if (fileInput.files.length) {
    setStatus("A file is chosen: “Check the posting” reads it instead of the text.");
    return;
  }
  const text = textArea.value;
  if (!text.trim()) {
    showWaiting();
    return;
  }
  if (text.length > liveChars) {  // the server scores such a text once, by the button
    setStatus(`A long text (over ${liveChars.toLocaleString("en")} characters): ` +
      "“Check the posting” scores it.");
    return;
  }
  const title = titleInput.value.trim() || null;
  const controller = new AbortController();
  inFlight = controller;
  const started = performance.now();
  result().setAttribute("aria-busy", "true");
  try {
    const data = await score({ text, title }, controller.signal);
    if (mine !== sequence) return;  // a newer update is on its way
    swapResult(data);
    shown = { text, title, label: data.label };
    const total = Math.round(performance.now() - started);
    // The verdict under the text too: on a phone the result is below, out of sight.
    setStatus(`As you write: ${data.heading} (scored in ${data.server_ms.toFixed(1)} ms on ` +
      `the server, ${total} ms in all).`);
    if (focus) result().focus();
  } catch (error) {
    if (error.name === "AbortError" || mine !== sequence) return;
    if (error instanceof NeedsToken) {
      setStatus(error.message);
      return;
    }
    showError(error.message, focus);
    setStatus("");
  } finally {
    if (mine === sequence) {
      inFlight = null;
      result().removeAttribute("aria-busy");
    }
  }
}

function swapResult(data) {
  const old = result();
  const folds = [...old.querySelectorAll("details")].map((fold) => fold.open);
  const [x, y] = [window.scrollX, window.scrollY];
  // Parsed in an inert document (nothing in it loads or runs); the server escaped every
  // string from the posting, and the page's policy allows no inline script.
  const parsed = new DOMParser().parseFromString(`<!DOCTYPE html><body>${data.html}`,
    "text/html");
  const fresh = document.createElement("div");
  fresh.id = "result";
  fresh.tabIndex = -1;
  fresh.className = data.verdict_class;
  fresh.append(...[...parsed.body.childNodes].map((node) => document.adoptNode(node)));
  // The folds a reader opened stay open (or closed) as the text changes.
  fresh.querySelectorAll("details").forEach((fold, index) => {
    if (index < folds.length) fold.open = folds[index];
  });
  announce(data.label, data.heading);
  old.replaceWith(fresh);
  document.title = data.document_title;
  enableLines(fresh);
  window.scrollTo(x, y);
}

// -- what if this line were gone? ------------------------------------------------------------

function enableLines(root) {
  root.querySelectorAll("button.without").forEach((lineButton) => {
    lineButton.hidden = false;
    lineButton.addEventListener("click", () => tryWithout(lineButton));
    const line = lineButton.closest("li");
    line.classList.add("can-try");
    line.addEventListener("click", (event) => {
      // A click on the line asks too, unless it selects text or hits the button itself.
      if (event.target.closest("button") || String(window.getSelection())) return;
      tryWithout(lineButton);
    });
  });
}

async function tryWithout(lineButton) {
  const out = lineButton.nextElementSibling;
  if (shown.text === null) return;
  const { text, title, label } = shown;
  out.textContent = "Scoring the text without this line…";
  try {
    const data = await score({
      text, title,
      without: [{ start: Number(lineButton.dataset.start), end: Number(lineButton.dataset.end) }],
    });
    if (shown.text !== text) return;  // the text changed meanwhile: this answer is stale
    const verdict = data.label === label ? `still reads as ${data.heading}` :
      `reads as ${data.heading} instead`;
    out.textContent = `Without this line it ${verdict} (${data.confidence_text}).`;
  } catch (error) {
    out.textContent = error.message.startsWith("the text without those lines") ?
      "Without this line there is nothing left to score." :
      `Could not score it without this line: ${error.message}`;
  }
}

// -- the form's button: the text now, or the chosen file -------------------------------------

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = fileInput.files[0];
  if (!file && textArea.value.length <= liveChars) {
    await update(true);
    return;
  }
  if (file && file.size > limit) {
    showError(`${file.name} is larger than ${limit / MIB} MiB; a job description is a few KB.`,
      true);
    return;
  }
  if (inFlight) inFlight.abort();
  sequence++;
  button.disabled = true;
  result().setAttribute("aria-busy", "true");
  try {
    const response = await fetch(form.action, { method: "POST", body: new FormData(form) });
    // The server answers with the whole page; only its result (escaped text) is taken.
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.getElementById("result");
    if (!fresh) {
      throw new Error(`the server answered ${response.status}`);
    }
    result().replaceWith(document.adoptNode(fresh));
    document.title = page.title;
    // The server read a file, or a long text: its offsets are not this page's to reuse.
    shown = { text: null, title: null, label: undefined };
    setStatus("");
    fresh.focus();
  } catch (error) {
    showError(`The request failed (${error.message}); try again.`, true);
  } finally {
    button.disabled = false;
    result().removeAttribute("aria-busy");
  }
});

textArea.addEventListener("input", schedule);
titleInput.addEventListener("input", schedule);
if (tokenInput) tokenInput.addEventListener("change", schedule);
fileInput.addEventListener("change", () => {
  if (fileInput.files.length) {
    setStatus("A file is chosen: “Check the posting” reads it instead of the text.");
  } else {
    schedule();
  }
});

function dropFiles(target, input) {
  target.addEventListener("dragover", (event) => {
    event.preventDefault();
    target.classList.add("dragging");
  });
  target.addEventListener("dragleave", () => target.classList.remove("dragging"));
  target.addEventListener("drop", (event) => {
    event.preventDefault();
    target.classList.remove("dragging");
    if (event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      input.dispatchEvent(new Event("change"));
    }
  });
}
dropFiles(form, fileInput);

// -- a spreadsheet in, a spreadsheet out --------------------------------------------------------

const sheetForm = document.querySelector(".sheet form");
const sheetInput = sheetForm.elements.namedItem("file");
const sheetButton = sheetForm.querySelector("button[type=submit]");
const sheetStatus = document.getElementById("sheet-status");
const sheetLimit = Number(sheetForm.dataset.maxBytes);
let download = null;

function sheetMessage(message, isError) {
  sheetForm.querySelectorAll("[role=alert]").forEach((node) => node.remove());
  sheetStatus.replaceChildren();
  if (isError) {
    sheetForm.append(card("alert", "Could not score the spreadsheet", message, "alert"));
  } else {
    sheetStatus.textContent = message;
  }
}

function savedName(response) {
  const header = response.headers.get("content-disposition") || "";
  const encoded = header.match(/filename\*=UTF-8''([^;]+)/);
  if (encoded) return decodeURIComponent(encoded[1]);
  const plain = header.match(/filename="([^"]+)"/);
  return plain ? plain[1] : "postings-rolecli.csv";
}

function rowsSummary(response) {
  // "300; engineer=120; scientist=80; mixed=90; off-topic=10; error=0"
  const [rows, ...counts] = (response.headers.get("x-rolecli-rows") || "").split("; ");
  const names = { engineer: "ML engineer", scientist: "ML scientist", mixed: "mixed",
    "off-topic": "off-topic", error: "not scored" };
  const parts = counts.map((pair) => pair.split("="))
    .filter(([, count]) => Number(count) > 0)
    .map(([label, count]) => `${count} ${names[label] || label}`);
  // "agrees=200; leans=30; contradicts=20": how the bodies compare with their titles
  const grades = Object.fromEntries((response.headers.get("x-rolecli-titles") || "")
    .split("; ").filter(Boolean).map((pair) => pair.split("=")));
  const titled = ["agrees", "leans", "contradicts"].reduce((n, g) => n + Number(grades[g] || 0), 0);
  const titles = titled ? `; titles against their body: ${grades.agrees || 0} agree, ` +
    `${grades.leans || 0} lean the other way, ${grades.contradicts || 0} contradict` : "";
  return `${rows} rows scored${parts.length ? ` (${parts.join(", ")})` : ""}${titles}`;
}

sheetForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = sheetInput.files[0];
  if (!file) {
    sheetMessage("Choose a .csv or .xlsx file of postings.", true);
    return;
  }
  if (file.size > sheetLimit) {
    sheetMessage(`${file.name} is larger than ${sheetLimit / MIB} MiB: split it into ` +
      "smaller files, or score it with `rolecli batch`, which has no limit.", true);
    return;
  }
  sheetButton.disabled = true;
  sheetMessage(`Scoring ${file.name}…`, false);
  try {
    const response = await fetch(sheetForm.action, { method: "POST", body: new FormData(sheetForm) });
    if (!response.ok) {
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const reason = page.querySelector(".sheet [role=alert] p");
      throw new Error(reason ? reason.textContent : `the server answered ${response.status}`);
    }
    const name = savedName(response);
    const summary = rowsSummary(response);
    if (download) URL.revokeObjectURL(download.href);
    download = document.createElement("a");
    download.href = URL.createObjectURL(await response.blob());
    download.download = name;
    download.textContent = `Download ${name} again`;
    download.click();
    sheetMessage(`${summary}: ${name} is downloaded. `, false);
    sheetStatus.append(download);
  } catch (error) {
    sheetMessage(error.message, true);
  } finally {
    sheetButton.disabled = false;
  }
});
dropFiles(sheetForm, sheetInput);

if (textArea.value.trim()) schedule();  // text the browser kept from before
