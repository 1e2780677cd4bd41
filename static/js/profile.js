// Offer the browser's time zone when the profile holds another one (a new laptop, a move).
const zoneField = document.querySelector("[data-browser-zone]");
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const offered = zoneField && [...zoneField.options].some((option) => option.value === browserZone);
if (offered && zoneField.value !== browserZone) {
  const note = document.createElement("p");
  note.className = "small mt-1 browser-zone";
  note.textContent = `Your browser says ${browserZone}. `;
  const use = document.createElement("button");
  use.type = "button";
  use.className = "btn btn-link btn-sm p-0 align-baseline";
  use.textContent = `Use ${browserZone}`;
  use.addEventListener("click", () => {
    zoneField.value = browserZone;
    note.textContent = `Time zone set to ${browserZone}: save the profile to keep it.`;
  });
  note.append(use);
  zoneField.after(note);
}
