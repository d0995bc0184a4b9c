// The agenda: items grouped by section in meeting order. The review section starts with the
// next steps carried over from earlier meetings (owner, due date, status; ticking one closes it
// in this meeting). Each item can be ticked, moved up or down within its section, or removed;
// a small form adds one (POST) and shows the service's validation errors next to the field.
// Changes by either person arrive through the live events socket: the panel calls update().

import {
  ApiError,
  addAgendaItem,
  deleteAgendaItem,
  updateActionItem,
  updateAgendaItem,
} from "../lib/api.js";
import { h, liveRegion, setChildren, setText, uid } from "../lib/dom.js";
import { clearErrors, field, formValues, showErrors, whileSubmitting } from "../lib/forms.js";
import { shortDueDate } from "../lib/due.js";
import { localDateAttr } from "../lib/time.js";
import { AGENDA_SECTIONS, SECTION_BY_KEY } from "../lib/words.js";
import { sendBar } from "./send.js";

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

export function ownerName(ctx, ownerId) {
  if (!ownerId) return null;
  if (ownerId === ctx.me.id) return "You";
  for (const person of Object.values(ctx.people)) if (person?.id === ownerId) return person.name;
  return null;
}

/** "added by Arjun", "added by you": who put an item on the agenda. */
export function addedBy(ctx, personId) {
  if (!personId) return "";
  if (personId === ctx.me.id) return "added by you";
  const person = Object.values(ctx.people).find((p) => p?.id === personId);
  const first = String(person?.name ?? "").split(/\s+/)[0];
  return first ? `added by ${first}` : "";
}

function toolButton(label, symbol, onclick, className = "") {
  return h(
    "button",
    { type: "button", class: `icon-button ${className}`.trim(), "aria-label": label, title: label, onclick },
    h("span", { "aria-hidden": "true" }, symbol),
  );
}

export function agendaSection(ctx, initial) {
  let items = sortItems(initial.items ?? []);
  let carried = initial.carried_over ?? [];
  const rows = new Map(); // item id -> {li, checkbox, text, up, down, remove}
  const pending = new Set(); // ids with a change in flight
  let stale = false; // an update arrived while a change was in flight: refetch after it
  const announcer = liveRegion();
  const problem = h("p", { class: "inline-error", role: "alert", hidden: true });

  function showProblem(message) {
    problem.textContent = message;
    problem.hidden = !message;
  }

  async function track(ids, work) {
    for (const id of ids) pending.add(id);
    showProblem("");
    try {
      return await work();
    } finally {
      for (const id of ids) pending.delete(id);
      if (!pending.size && stale) {
        stale = false;
        ctx.refetch?.("agenda");
      }
    }
  }

  async function setDone(itemId, checkbox, row) {
    const done = checkbox.checked;
    row.li.classList.toggle("is-done", done);
    try {
      const updated = await track([itemId], () => updateAgendaItem(itemId, { done }));
      items = items.map((it) => (it.id === itemId ? updated : it));
    } catch (error) {
      checkbox.checked = !done;
      row.li.classList.toggle("is-done", !done);
      showProblem(`Could not save that change. ${sessionMessage(error)}`);
    }
  }

  async function move(item, delta) {
    const siblings = items.filter((it) => it.section === item.section);
    const from = siblings.findIndex((it) => it.id === item.id);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= siblings.length) return;
    const order = [...siblings];
    order.splice(to, 0, ...order.splice(from, 1));
    const changes = order
      .map((it, index) => ({ it, index }))
      .filter(({ it, index }) => it.position !== index);
    const before = items;
    const newPosition = new Map(order.map((it, index) => [it.id, index]));
    items = sortItems(
      items.map((it) => (newPosition.has(it.id) ? { ...it, position: newPosition.get(it.id) } : it)),
    );
    render();
    rows.get(item.id)?.[delta < 0 ? "up" : "down"].focus();
    const where = delta < 0 ? "up" : "down";
    setText(announcer, `Moved “${item.text}” ${where}.`);
    try {
      await track(
        changes.map(({ it }) => it.id),
        () => Promise.all(changes.map(({ it, index }) => updateAgendaItem(it.id, { position: index }))),
      );
    } catch (error) {
      items = before;
      render();
      showProblem(`Could not move that item. ${sessionMessage(error)}`);
    }
  }

  async function remove(item) {
    const before = items;
    const section = items.filter((it) => it.section === item.section);
    const index = section.findIndex((it) => it.id === item.id);
    items = items.filter((it) => it.id !== item.id);
    render();
    // Keep the keyboard somewhere sensible: the next item's remove button, or the section's add.
    const next = section[index + 1] ?? section[index - 1];
    (next ? rows.get(next.id)?.remove : groups.get(item.section)?.addHere)?.focus();
    setText(announcer, `Removed “${item.text}”.`);
    try {
      await track([item.id], () => deleteAgendaItem(item.id));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return; // already gone
      items = before;
      render();
      showProblem(`Could not remove that item. ${sessionMessage(error)}`);
    }
  }

  function rowFor(item) {
    let row = rows.get(item.id);
    if (!row) {
      const id = uid("agenda-item");
      const checkbox = h("input", { type: "checkbox", id, class: "check-input" });
      const text = h("span", { class: "item-text" });
      const by = h("span", { class: "item-by" });
      const current = () => items.find((it) => it.id === item.id) ?? item;
      const up = toolButton("", "↑", () => move(current(), -1));
      const down = toolButton("", "↓", () => move(current(), 1));
      const removeButton = toolButton("", "×", () => remove(current()), "icon-button--remove");
      const li = h(
        "li",
        { class: "agenda-item", dataset: { itemId: item.id } },
        h("label", { for: id, class: "check" }, checkbox, h("span", { class: "item-body" }, text, by)),
        h("span", { class: "item-tools" }, up, down, removeButton),
      );
      row = { li, checkbox, text, by, up, down, remove: removeButton };
      checkbox.addEventListener("change", () => setDone(item.id, checkbox, row));
      rows.set(item.id, row);
    }
    setText(row.text, item.text);
    setText(row.by, addedBy(ctx, item.created_by));
    for (const [button, label] of [
      [row.up, `Move “${item.text}” up`],
      [row.down, `Move “${item.text}” down`],
      [row.remove, `Remove “${item.text}”`],
    ]) {
      button.setAttribute("aria-label", label);
      button.title = label.replace(/ “.*”/, "");
    }
    if (!pending.has(item.id)) {
      row.checkbox.checked = Boolean(item.done);
      row.li.classList.toggle("is-done", Boolean(item.done));
    }
    return row;
  }

  // Next steps carried over from earlier meetings, shown at the top of the review section.
  const carriedList = h("ul", { class: "carried-list", "aria-label": "Next steps from earlier meetings" });
  const carriedPending = new Set();
  const carriedRows = new Map(); // action id -> {key, li}: unchanged rows keep their focus

  async function setActionDone(action, checkbox) {
    const done = checkbox.checked;
    carriedPending.add(action.id);
    showProblem("");
    try {
      const updated = await updateActionItem(
        action.id,
        done
          ? { status: "done", closed_in_meeting_id: ctx.meeting.id }
          : { status: "open", closed_in_meeting_id: null },
      );
      carried = carried.map((a) => (a.id === action.id ? updated : a));
      renderCarried();
      setText(announcer, done ? `Marked “${action.text}” done.` : `Reopened “${action.text}”.`);
    } catch (error) {
      checkbox.checked = !done;
      showProblem(`Could not save that change. ${sessionMessage(error)}`);
    } finally {
      carriedPending.delete(action.id);
    }
  }

  function carriedRow(action, today) {
    const id = uid("carried");
    const done = action.status === "done";
    const checkbox = h("input", { type: "checkbox", id, class: "check-input", checked: done });
    checkbox.addEventListener("change", () => setActionDone(action, checkbox));
    const owner = ownerName(ctx, action.owner_id);
    const overdue = !done && action.due_date && action.due_date < today;
    const meta = [];
    if (owner) meta.push(h("span", { class: "owner" }, owner));
    if (action.due_date) {
      meta.push(
        h(
          "span",
          { class: overdue ? "due due--overdue" : "due" },
          overdue ? "overdue since " : "due ",
          h("time", { datetime: action.due_date }, shortDueDate(action.due_date, today, ctx.locale)),
        ),
      );
    }
    const status = h(
      "span",
      { class: `pill pill--${done ? "done" : "open"}` },
      done ? "Done" : action.status === "dropped" ? "Dropped" : "Open",
    );
    return h(
      "li",
      { class: `carried-item${done ? " is-done" : ""}`, dataset: { actionId: action.id, status: action.status } },
      h(
        "label",
        { for: id, class: "check" },
        checkbox,
        h(
          "span",
          { class: "carried-body" },
          h("span", { class: "item-text" }, action.text),
          h("span", { class: "action-meta" }, status, ...meta.flatMap((m) => [" · ", m])),
        ),
      ),
    );
  }

  function renderCarried() {
    const today = localDateAttr(new Date(), ctx.viewerZone);
    const sorted = [...carried].sort(
      (a, b) =>
        (a.due_date ?? "9999").localeCompare(b.due_date ?? "9999") ||
        String(a.created_at).localeCompare(String(b.created_at)),
    );
    const wanted = sorted.map((a) => {
        const key = JSON.stringify([a.text, a.status, a.owner_id, a.due_date, today]);
        const cached = carriedRows.get(a.id);
        if (cached?.key === key) return cached.li;
        const li = carriedRow(a, today);
        carriedRows.set(a.id, { key, li });
        return li;
    });
    const same =
      wanted.length === carriedList.children.length &&
      wanted.every((li, i) => carriedList.children[i] === li);
    if (!same) setChildren(carriedList, wanted);
    carriedWrap.hidden = sorted.length === 0;
  }

  // One group (heading + list + empty prompt) per section, always shown so the shape of a
  // good meeting stays visible even before anything is written down.
  const groups = new Map();
  const textFieldRef = { control: null, select: null };
  const carriedWrap = h(
    "div",
    { class: "carried" },
    h("p", { class: "carried-label" }, "Carried over from earlier meetings"),
    carriedList,
  );
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
      section.key === "review" ? carriedWrap : null,
      list,
    );
    groups.set(section.key, { wrapper, list, empty, addHere });
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
        const row = rowFor(item);
        seen.add(item.id);
        row.up.disabled = index === 0;
        row.down.disabled = index === sectionItems.length - 1;
        // Move only what is out of place: moving a focused checkbox would drop its focus.
        if (list.children[index] !== row.li) list.insertBefore(row.li, list.children[index] ?? null);
      });
      const hasCarried = key === "review" && carried.length > 0;
      empty.hidden = sectionItems.length > 0 || hasCarried;
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

  /** New data from the service (after a live event): redraw unless a change is in flight. */
  function update(data) {
    if (pending.size) {
      stale = true;
      return;
    }
    items = sortItems(data.items ?? []);
    if (!carriedPending.size) carried = data.carried_over ?? [];
    render();
    renderCarried();
  }

  const send = sendBar(ctx);

  render();
  renderCarried();
  const element = h(
    "section",
    { id: "agenda", class: "card agenda", "aria-labelledby": "agenda-heading" },
    h("div", { class: "card-head" }, h("h2", { id: "agenda-heading" }, "Agenda")),
    h(
      "p",
      { class: "section-intro" },
      ctx.myRole === "mentee"
        ? "Prepare it before the call and send it to your mentor; both of you can add to it."
        : "Your mentee prepares it before the call; you can add to it too.",
    ),
    send.element,
    problem,
    ...[...groups.values()].map((g) => g.wrapper),
    form,
    announcer,
  );
  return { element, update, updateMeeting: send.update };
}
