// "Copy reply": copies the textarea named by data-copy-target and says so politely.
document.querySelectorAll("[data-copy-target]").forEach((button) => {
  button.addEventListener("click", async () => {
    const field = document.getElementById(button.dataset.copyTarget);
    const status = button.parentElement.querySelector(".copy-status");
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = "Copied. Paste it into your email or chat.";
    } catch {
      field.select();
      status.textContent = "Selected: press Ctrl+C (or ⌘C) to copy.";
    }
  });
});
