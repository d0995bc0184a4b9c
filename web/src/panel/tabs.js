// Accessible tabs (WAI-ARIA tabs pattern, automatic activation): a role=tablist of buttons,
// each controlling one role=tabpanel. Left/Right (and Home/End) move between the tabs that are
// shown, wrapping around; only the selected tab is in the Tab order. A tab hidden by CSS (the
// agenda's, when the agenda sits beside the notes on a wide screen) is skipped.

import { h } from "../lib/dom.js";

/**
 * tabSet([{key, label, children}], {label, onSelect(key, byPerson)})
 * Returns {tablist, panels: Map(key -> element), select(key, {focus, byPerson}), selected()}.
 */
export function tabSet(items, { label, onSelect = () => {} }) {
  const buttons = new Map();
  const panels = new Map();
  let current = items[0].key;

  for (const item of items) {
    const tabId = `tab-${item.key}`;
    const panelId = `tabpanel-${item.key}`;
    const button = h(
      "button",
      {
        type: "button",
        role: "tab",
        id: tabId,
        class: "tab",
        "aria-controls": panelId,
        dataset: { tab: item.key },
        onclick: () => select(item.key, { byPerson: true }),
      },
      item.label,
    );
    buttons.set(item.key, button);
    panels.set(
      item.key,
      h(
        "div",
        {
          role: "tabpanel",
          id: panelId,
          class: `tab-panel tab-panel--${item.key}`,
          "aria-labelledby": tabId,
          dataset: { tabPanel: item.key },
        },
        item.children,
      ),
    );
  }

  const shown = () => [...buttons.values()].filter((b) => b.getClientRects().length > 0);

  function select(key, { focus = false, byPerson = false } = {}) {
    if (!buttons.has(key)) return;
    current = key;
    for (const [k, button] of buttons) {
      const on = k === key;
      button.setAttribute("aria-selected", on ? "true" : "false");
      button.tabIndex = on ? 0 : -1;
      panels.get(k).dataset.active = on ? "true" : "false";
    }
    buttons.get(key).classList.remove("tab--news");
    buttons.get(key).removeAttribute("aria-description");
    if (focus) buttons.get(key).focus();
    onSelect(key, byPerson);
  }

  const tablist = h(
    "div",
    { role: "tablist", class: "tabs", "aria-label": label },
    [...buttons.values()],
  );
  tablist.addEventListener("keydown", (event) => {
    const visible = shown();
    const at = visible.indexOf(document.activeElement);
    if (at < 0) return;
    let next = null;
    if (event.key === "ArrowRight") next = visible[(at + 1) % visible.length];
    else if (event.key === "ArrowLeft") next = visible[(at - 1 + visible.length) % visible.length];
    else if (event.key === "Home") next = visible[0];
    else if (event.key === "End") next = visible[visible.length - 1];
    if (!next) return;
    event.preventDefault();
    select(next.dataset.tab, { focus: true, byPerson: true });
  });

  select(current);
  return {
    tablist,
    panels,
    select,
    selected: () => current,
    isShown: (key) => buttons.get(key)?.getClientRects().length > 0,
    /** A small dot on a tab whose panel has something new (cleared when it is opened). */
    mark(key, on, label = "") {
      const button = buttons.get(key);
      if (!button) return;
      const show = on && key !== current;
      button.classList.toggle("tab--news", show);
      if (show && label) button.setAttribute("aria-description", label);
      else button.removeAttribute("aria-description");
    },
  };
}
