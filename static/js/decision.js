// Show only the fields that belong to the chosen answer (each group says which answers it
// belongs to in data-for). Without JavaScript all stay visible.
const kindInputs = document.querySelectorAll("input[name='kind']");
const groups = document.querySelectorAll("[data-for]");

function showFieldsFor(kind) {
  groups.forEach((group) => {
    group.hidden = !group.dataset.for.split(" ").includes(kind);
  });
}

kindInputs.forEach((input) => input.addEventListener("change", () => showFieldsFor(input.value)));
const checked = document.querySelector("input[name='kind']:checked");
showFieldsFor(checked ? checked.value : "");
