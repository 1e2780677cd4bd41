// The export form: a CSV, a JSON or a small PDF or ZIP comes back as a download and the
// page stays as it was, so say what is happening, and clear an earlier try's errors
// (a refused form comes back as a new page, with its own).
const exportForm = document.querySelector("form.export-form");
if (exportForm) {
  exportForm.addEventListener("submit", () => {
    exportForm.querySelectorAll(".invalid-feedback, .alert-danger").forEach((error) => error.remove());
    exportForm.querySelectorAll(".is-invalid").forEach((field) => field.classList.remove("is-invalid"));
    const status = document.getElementById("export-status");
    status.hidden = false;
    status.textContent =
      "Making your export. Its download starts when it is ready, and it is listed under Exports.";
  });
}
