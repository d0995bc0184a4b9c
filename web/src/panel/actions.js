// Open action items ("next steps") of the mentorship: what each person agreed to do. A step
// whose day has passed is flagged "overdue since 3 Dec"; dates show the year when it is not this
// year's. Each can be edited (words, owner, date) or removed in place (step-edit.js).

import { isOverdue, shortDueDate } from "../lib/due.js";
import { h, liveRegion, setChildren, setText } from "../lib/dom.js";
import { localDateAttr } from "../lib/time.js";
import { stepButtons, stepEditor } from "./step-edit.js";

function ownerName(ctx, ownerId) {
  if (!ownerId) return null;
  if (ownerId === ctx.me.id) return "You";
  for (const person of Object.values(ctx.people)) if (person?.id === ownerId) return person.name;
  return null;
}

function actionItem(ctx, item, today, buttons) {
  const owner = ownerName(ctx, item.owner_id);
  const overdue = isOverdue(item.due_date, today);
  const meta = [];
  if (owner) meta.push(h("span", { class: "owner" }, owner));
  if (item.due_date) {
    meta.push(
      h(
        "span",
        { class: overdue ? "due due--overdue" : "due" },
        overdue ? "overdue since " : "due ",
        h("time", { datetime: item.due_date }, shortDueDate(item.due_date, today, ctx.locale)),
      ),
    );
  }
  return h(
    "li",
    { class: overdue ? "action-item action-item--overdue" : "action-item", dataset: { actionId: item.id } },
    h(
      "span",
      { class: "action-body" },
      h("span", { class: "action-text" }, item.text),
      meta.length ? h("span", { class: "action-meta" }, ...meta.flatMap((m, i) => (i ? [" · ", m] : [m]))) : null,
    ),
    buttons ? h("span", { class: "action-buttons" }, buttons) : null,
  );
}

export function actionsSection(ctx, initialItems) {
  const list = h("ul", { class: "plain-list" });
  const empty = h("p", { class: "empty-prompt" }, "Nothing open. Agree on a few next steps before you hang up.");
  const announcer = liveRegion();
  let items = initialItems;
  let editing = null;
  let editorRow = null; // kept across live re-renders, so typing is not lost

  function stopEditing(message) {
    editing = null;
    editorRow = null;
    render(items);
    if (message) setText(announcer, message);
  }

  function row(item, today) {
    if (editing === item.id) {
      editorRow ??= h(
        "li",
        { class: "action-item action-item--editing", dataset: { actionId: item.id } },
        stepEditor(ctx, item, {
          onSaved: (saved) => {
            items = items.map((x) => (x.id === saved.id ? saved : x));
            stopEditing("Next step saved.");
            ctx.refetch?.("actions");
          },
          onCancel: () => stopEditing(),
        }),
      );
      return editorRow;
    }
    const buttons = stepButtons(item, {
      edit: () => {
        editing = item.id;
        editorRow = null;
        render(items);
      },
      removed: (gone) => {
        items = items.filter((x) => x.id !== gone.id);
        stopEditing("Next step removed.");
        ctx.refetch?.("actions");
      },
      failed: (error) => {
        setText(announcer, error.message);
        render(items);
      },
    });
    return actionItem(ctx, item, today, buttons);
  }

  function render(next) {
    items = next;
    const today = localDateAttr(new Date(), ctx.viewerZone);
    const open = items
      .filter((item) => item.status === "open")
      .sort(
        (a, b) =>
          (a.due_date ?? "9999").localeCompare(b.due_date ?? "9999") ||
          String(a.created_at).localeCompare(String(b.created_at)),
      );
    if (editing && !open.some((item) => item.id === editing)) {
      editing = null;
      editorRow = null;
    }
    // A live event re-renders while someone types in the editor: keep their place.
    const focused = list.contains(document.activeElement) ? document.activeElement : null;
    setChildren(list, open.map((item) => row(item, today)));
    if (focused?.isConnected && document.activeElement !== focused) focused.focus({ preventScroll: true });
    list.hidden = open.length === 0;
    empty.hidden = open.length > 0;
  }
  render(initialItems);
  const element = h(
    "section",
    { id: "action-items", class: "card", "aria-labelledby": "actions-heading" },
    h("h2", { id: "actions-heading" }, "Open next steps"),
    list,
    empty,
    announcer,
  );
  return { element, update: render };
}
