// Optional: the page works without this script. It sends the form with fetch and swaps in
// the result, so the page does not reload and the form keeps what was typed; it refuses a
// file over the size limit before uploading it, and takes a file dropped anywhere on the form.
"use strict";

const form = document.querySelector("form.ask");
const button = form.querySelector("button[type=submit]");
const fileInput = form.elements.namedItem("file");
const limit = Number(form.dataset.maxBytes);

function showError(message) {
  const result = document.getElementById("result");
  const card = document.createElement("section");
  card.className = "card alert";
  card.setAttribute("role", "alert");
  const heading = document.createElement("h2");
  heading.textContent = "Could not check the posting";
  const text = document.createElement("p");
  text.textContent = message;
  card.append(heading, text);
  result.className = "";
  result.replaceChildren(card);
  result.focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = fileInput.files[0];
  if (file && file.size > limit) {
    showError(`${file.name} is larger than ${limit / 1048576} MiB; a job description is a few KB.`);
    return;
  }
  button.disabled = true;
  document.getElementById("result").setAttribute("aria-busy", "true");
  try {
    const response = await fetch(form.action, { method: "POST", body: new FormData(form) });
    // The server answers with the whole page; only its result (escaped text) is taken.
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.getElementById("result");
    if (!fresh) {
      throw new Error(`the server answered ${response.status}`);
    }
    document.getElementById("result").replaceWith(document.adoptNode(fresh));
    document.title = page.title;
    fresh.focus();
  } catch (error) {
    showError(`The request failed (${error.message}); try again.`);
  } finally {
    button.disabled = false;
    document.getElementById("result").removeAttribute("aria-busy");
  }
});

form.addEventListener("dragover", (event) => {
  event.preventDefault();
  form.classList.add("dragging");
});
form.addEventListener("dragleave", () => form.classList.remove("dragging"));
form.addEventListener("drop", (event) => {
  event.preventDefault();
  form.classList.remove("dragging");
  if (event.dataTransfer.files.length) {
    fileInput.files = event.dataTransfer.files;
  }
});
