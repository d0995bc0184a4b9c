// Open action items ("next steps") of the mentorship: what each person agreed to do.

import { h, setChildren } from "../lib/dom.js";
import { formatCalendarDate, localDateAttr } from "../lib/time.js";

function ownerName(ctx, ownerId) {
  if (!ownerId) return null;
  if (ownerId === ctx.me.id) return "You";
  for (const person of Object.values(ctx.people)) if (person?.id === ownerId) return person.name;
  return null;
}

function actionItem(ctx, item, today) {
  const owner = ownerName(ctx, item.owner_id);
  const overdue = item.due_date && item.due_date < today;
  const meta = [];
  if (owner) meta.push(h("span", { class: "owner" }, owner));
  if (item.due_date) {
    meta.push(
      h(
        "span",
        { class: overdue ? "due due--overdue" : "due" },
        overdue ? "was due " : "due ",
        h("time", { datetime: item.due_date }, formatCalendarDate(item.due_date, ctx.locale)),
      ),
    );
  }
  return h(
    "li",
    { class: "action-item", dataset: { actionId: item.id } },
    h("span", { class: "action-text" }, item.text),
    meta.length ? h("span", { class: "action-meta" }, ...meta.flatMap((m, i) => (i ? [" · ", m] : [m]))) : null,
  );
}

export function actionsSection(ctx, initialItems) {
  const list = h("ul", { class: "plain-list" });
  const empty = h("p", { class: "empty-prompt" }, "Nothing open. Agree on a few next steps before you hang up.");
  function render(items) {
    const today = localDateAttr(new Date(), ctx.viewerZone);
    const open = items
      .filter((item) => item.status === "open")
      .sort(
        (a, b) =>
          (a.due_date ?? "9999").localeCompare(b.due_date ?? "9999") ||
          String(a.created_at).localeCompare(String(b.created_at)),
      );
    setChildren(list, open.map((item) => actionItem(ctx, item, today)));
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
  );
  return { element, update: render };
}
