// Show only the fields that belong to the chosen answer. Without JavaScript all stay visible.
const kindInputs = document.querySelectorAll("input[name='kind']");
const sections = {
  decline: document.querySelectorAll(".decision-decline"),
  accept: document.querySelectorAll(".decision-accept"),
};

function showFieldsFor(kind) {
  for (const [name, nodes] of Object.entries(sections)) {
    nodes.forEach((node) => { node.hidden = kind !== name; });
  }
}

kindInputs.forEach((input) => input.addEventListener("change", () => showFieldsFor(input.value)));
const checked = document.querySelector("input[name='kind']:checked");
showFieldsFor(checked ? checked.value : "");
