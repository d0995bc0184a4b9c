// The agenda: items grouped by section in meeting order, a checkbox per item (ticking PATCHes
// it), and a small form to add an item (POST) that shows the service's validation errors next
// to the field. The list refreshes itself every 30 s so both people see each other's changes.

import { ApiError, addAgendaItem, listAgenda, updateAgendaItem } from "../lib/api.js";
import { h, liveRegion, setText, uid } from "../lib/dom.js";
import { clearErrors, field, formValues, showErrors, whileSubmitting } from "../lib/forms.js";
import { AGENDA_SECTIONS, SECTION_BY_KEY } from "../lib/words.js";

const REFRESH_MS = 30000;
const SECTION_ORDER = new Map(AGENDA_SECTIONS.map((s, i) => [s.key, i]));

function sortItems(items) {
  return [...items].sort(
    (a, b) =>
      (SECTION_ORDER.get(a.section) ?? 99) - (SECTION_ORDER.get(b.section) ?? 99) ||
      a.position - b.position ||
      String(a.created_at).localeCompare(String(b.created_at)),
  );
}

function sessionMessage(error) {
  if (error instanceof ApiError && error.status === 401) {
    return "You are signed out. Open your personal link again to keep working.";
  }
  return error.message;
}

export function agendaSection(ctx, initialItems) {
  let items = sortItems(initialItems);
  const rows = new Map(); // item id -> {li, checkbox, text}
  const pending = new Set(); // ids with a PATCH in flight
  const announcer = liveRegion();
  const problem = h("p", { class: "inline-error", role: "alert", hidden: true });

  function showProblem(message) {
    problem.textContent = message;
    problem.hidden = !message;
  }

  async function setDone(itemId, checkbox, row) {
    const done = checkbox.checked;
    row.li.classList.toggle("is-done", done);
    pending.add(itemId);
    showProblem("");
    try {
      const updated = await updateAgendaItem(itemId, { done });
      items = items.map((it) => (it.id === itemId ? updated : it));
    } catch (error) {
      checkbox.checked = !done;
      row.li.classList.toggle("is-done", !done);
      showProblem(`Could not save that change. ${sessionMessage(error)}`);
    } finally {
      pending.delete(itemId);
    }
  }

  function rowFor(item) {
    let row = rows.get(item.id);
    if (!row) {
      const id = uid("agenda-item");
      const checkbox = h("input", { type: "checkbox", id, class: "check-input" });
      const text = h("span", { class: "item-text" });
      const li = h(
        "li",
        { class: "agenda-item", dataset: { itemId: item.id } },
        h("label", { for: id, class: "check" }, checkbox, text),
      );
      row = { li, checkbox, text };
      checkbox.addEventListener("change", () => setDone(item.id, checkbox, row));
      rows.set(item.id, row);
    }
    setText(row.text, item.text);
    if (!pending.has(item.id)) {
      row.checkbox.checked = Boolean(item.done);
      row.li.classList.toggle("is-done", Boolean(item.done));
    }
    return row;
  }

  // One group (heading + list + empty prompt) per section, always shown so the shape of a
  // good meeting stays visible even before anything is written down.
  const groups = new Map();
  const textFieldRef = { control: null, select: null };
  for (const section of AGENDA_SECTIONS) {
    const headingId = `agenda-${section.key}-heading`;
    const list = h("ul", { class: "checklist", "aria-labelledby": headingId });
    const empty = h("p", { class: "empty-prompt" }, section.prompt);
    const addHere = h(
      "button",
      {
        type: "button",
        class: "button button--tiny",
        "aria-label": `Add an item to ${section.heading}`,
        onclick: () => {
          textFieldRef.select.value = section.key;
          textFieldRef.control.focus();
        },
      },
      "+ Add",
    );
    const wrapper = h(
      "div",
      { class: "agenda-group", id: `agenda-${section.key}`, dataset: { section: section.key } },
      h("div", { class: "group-head" }, h("h3", { id: headingId }, section.heading), addHere),
      empty,
      list,
    );
    groups.set(section.key, { wrapper, list, empty });
  }

  function render() {
    const seen = new Set();
    const bySection = new Map(AGENDA_SECTIONS.map((s) => [s.key, []]));
    for (const item of items) {
      if (!bySection.has(item.section)) continue;
      bySection.get(item.section).push(item);
    }
    for (const [key, sectionItems] of bySection) {
      const { list, empty } = groups.get(key);
      sectionItems.forEach((item, index) => {
        const { li } = rowFor(item);
        seen.add(item.id);
        // Move only what is out of place: moving a focused checkbox would drop its focus.
        if (list.children[index] !== li) list.insertBefore(li, list.children[index] ?? null);
      });
      empty.hidden = sectionItems.length > 0;
      list.hidden = sectionItems.length === 0;
    }
    for (const [id, row] of rows) {
      if (!seen.has(id)) {
        row.li.remove();
        rows.delete(id);
      }
    }
  }

  // The add form.
  const sectionField = field({
    name: "section",
    label: "Section",
    required: true,
    value: "topics",
    options: AGENDA_SECTIONS.map((s) => ({ value: s.key, label: s.short })),
  });
  const textField = field({
    name: "text",
    label: "Item",
    required: true,
    placeholder: "What do you want to talk about?",
    className: "field--grow",
  });
  textFieldRef.select = sectionField.querySelector("select");
  textFieldRef.control = textField.querySelector("input");
  const form = h(
    "form",
    { class: "add-item", "aria-labelledby": "add-item-heading", novalidate: true },
    h("h3", { id: "add-item-heading" }, "Add to the agenda"),
    h("div", { class: "add-item-fields" }, sectionField, textField),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "button button--primary" }, "Add item")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const values = formValues(form);
    if (!values.text) {
      showErrors(form, { message: "", fields: [{ loc: "text", msg: "Write what you want to add." }] });
      return;
    }
    try {
      const created = await whileSubmitting(form, () =>
        addAgendaItem(ctx.meeting.id, { section: values.section, text: values.text }),
      );
      items = sortItems([...items.filter((it) => it.id !== created.id), created]);
      render();
      textFieldRef.control.value = "";
      textFieldRef.control.focus();
      setText(announcer, `Added to ${SECTION_BY_KEY.get(created.section)?.heading ?? "the agenda"}.`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        showErrors(form, { message: sessionMessage(error), fields: [] });
      } else {
        showErrors(form, error);
      }
    }
  });

  async function refresh() {
    if (pending.size || document.visibilityState !== "visible") return;
    try {
      const data = await listAgenda(ctx.meeting.id);
      if (pending.size) return;
      items = sortItems(data.items ?? []);
      render();
    } catch {
      // A missed refresh is harmless; the next one (or a reload) catches up.
    }
  }
  setInterval(refresh, REFRESH_MS);

  render();
  const element = h(
    "section",
    { id: "agenda", class: "card agenda", "aria-labelledby": "agenda-heading" },
    h("div", { class: "card-head" }, h("h2", { id: "agenda-heading" }, "Agenda")),
    h(
      "p",
      { class: "section-intro" },
      "The mentee usually prepares this before the call; both of you can add to it.",
    ),
    problem,
    ...[...groups.values()].map((g) => g.wrapper),
    form,
    announcer,
  );
  return { element, refresh };
}
