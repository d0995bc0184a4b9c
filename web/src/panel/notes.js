// The "Live notes" region: one Markdown page both people type into during the call.
// notesSection() draws the card; mountNotes() connects the shared document (src/notes/) and
// mounts the editor into #notes-editor, with a connection status, who is here, and a tip.

import { h, setChildren, setText, uid } from "../lib/dom.js";
import { connectNotes, isTerminalClose } from "../notes/connection.js";
import { createNotesEditor, MAX_INSERT } from "../notes/editor.js";

// Cursor colours: the product's mentor purple and mentee teal; the light ones tint selections.
const COLORS = {
  mentor: { color: "#5a45b8", colorLight: "#5a45b833" },
  mentee: { color: "#0b6b63", colorLight: "#0b6b6333" },
};

const STATUS_TEXT = {
  connecting: "Connecting…",
  syncing: "Loading the notes…",
  connected: "Connected",
  reconnecting: "Reconnecting… your edits will sync when you're back online",
  offline: "You're offline: your edits will sync when you're back online",
  closed: "Not connected",
};

function closedMessage({ code, reason }) {
  if (code === 4413) {
    return "These notes have reached their size limit, so your last change was not saved and editing has stopped. Use “Download .md” to keep what was saved.";
  }
  if (code === 1009) {
    return "A change was too large to send (a very long paste?), so syncing stopped. Copy anything you typed since, then reload the page to continue from the saved notes.";
  }
  if (code === 4400) {
    return "The notes service could not read a change from this page, so syncing stopped. Copy anything you typed since, then reload the page to continue.";
  }
  const detail = reason ? ` (${reason})` : "";
  return `The notes service closed the connection${detail}. Reload the page to try again.`;
}

export function notesSection(ctx) {
  const ids = { help: uid("notes-help") };
  const statusText = h("span", { class: "notes-status-text" }, STATUS_TEXT.connecting);
  const status = h(
    "p",
    { class: "notes-status", role: "status", dataset: { connection: "connecting" } },
    h("span", { class: "status-dot", "aria-hidden": "true" }),
    statusText,
  );
  const presence = h("p", { class: "notes-presence", "aria-live": "polite" });
  const problem = h("div", { class: "notes-problem", role: "alert", hidden: true });
  const editorRoot = h("div", {
    id: "notes-editor",
    class: "notes-editor",
    dataset: { meetingId: ctx.meeting.id },
  });
  const download = h(
    "a",
    {
      class: "button button--tiny",
      href: `/api/v1/meetings/${encodeURIComponent(ctx.meeting.id)}/notes.md`,
      download: "",
    },
    "Download .md",
  );
  const help = h(
    "p",
    { id: ids.help, class: "notes-help hint" },
    "Tip: the notes are Markdown (",
    h("code", {}, "# heading"),
    ", ",
    h("code", {}, "- list"),
    ", ",
    h("code", {}, "**bold**"),
    "). Lines like ",
    h("code", {}, "- [ ] next step @mentee by 2026-12-03"),
    " and ",
    h("code", {}, "Agreed: …"),
    " will be picked up by the meeting summary later.",
  );
  const element = h(
    "section",
    { id: "notes", class: "card notes", "aria-labelledby": "notes-heading" },
    h("div", { class: "card-head" }, h("h2", { id: "notes-heading" }, "Live notes"), status),
    h(
      "div",
      { class: "notes-intro" },
      h(
        "p",
        { class: "section-intro" },
        "One dated page you both type into during the call, kept with the meeting afterwards.",
      ),
      download,
    ),
    presence,
    problem,
    editorRoot,
    help,
  );
  return { element, editorRoot, parts: { status, statusText, presence, problem, ids } };
}

function presenceLine(ctx, me, others, online) {
  const otherRole = ctx.myRole === "mentor" ? "mentee" : "mentor";
  const chip = (user, label) =>
    h(
      "span",
      { class: `presence-chip presence-chip--${user.role === "mentor" ? "mentor" : "mentee"}` },
      h("span", { class: "presence-dot", "aria-hidden": "true" }),
      label,
    );
  if (!online) return [chip(me, "You")]; // who else is here is unknown until we are back
  if (others.length === 0) {
    const other = ctx.people[otherRole];
    const waiting = other
      ? `${other.name} hasn't opened the notes yet.`
      : "Only you are here for now.";
    return [chip(me, "You"), h("span", { class: "presence-wait" }, waiting)];
  }
  return [
    h("span", { class: "presence-label" }, "Here now:"),
    chip(me, "You"),
    ...others.map((user) => chip(user, user.name)),
  ];
}

/** Mount the shared notes editor into `editorRoot`; returns {destroy}. */
export function mountNotes(editorRoot, ctx, parts = findParts(editorRoot)) {
  const role = ctx.myRole === "mentor" ? "mentor" : "mentee";
  const user = { name: ctx.me.name, role, ...COLORS[role] };
  let everSynced = false;
  let connected = false;
  let closed = false;
  let refusedTimer = 0;

  const showStatus = (key) => {
    if (!parts) return;
    parts.status.dataset.connection = key;
    setText(parts.statusText, STATUS_TEXT[key]);
  };
  const currentStatus = () => {
    if (closed) return "closed";
    if (connected) return everSynced && notes.provider.synced ? "connected" : "syncing";
    if (!everSynced) return "connecting";
    return navigator.onLine === false ? "offline" : "reconnecting";
  };

  const notes = connectNotes(
    { meetingId: ctx.meeting.id, user },
    {
      onStatus(status) {
        connected = status === "connected";
        showStatus(currentStatus());
        renderPresence();
      },
      onSynced(synced) {
        if (synced && !everSynced) {
          everSynced = true;
          editor.setEditable(true);
        }
        showStatus(currentStatus());
        renderPresence();
      },
      onClosed(event) {
        if (!isTerminalClose(event.code)) return;
        closed = true;
        editor.setEditable(false);
        showStatus("closed");
        if (parts) {
          setChildren(parts.problem, h("p", {}, closedMessage(event)));
          parts.problem.hidden = false;
        }
      },
    },
  );

  const editor = createNotesEditor(editorRoot, {
    ytext: notes.ytext,
    awareness: notes.awareness,
    undoManager: notes.undoManager,
    cspNonce: ctx.cspNonce,
    label: "Shared meeting notes (Markdown)",
    describedBy: parts?.ids.help,
    onRefused() {
      if (!parts || closed) return;
      const limit = MAX_INSERT.toLocaleString(ctx.locale);
      setChildren(
        parts.problem,
        h("p", {}, `That is too long to paste into the shared notes (over ${limit} characters at once). Paste it in parts, or link to it.`),
      );
      parts.problem.hidden = false;
      clearTimeout(refusedTimer);
      refusedTimer = setTimeout(() => {
        if (!closed) parts.problem.hidden = true;
      }, 10000);
    },
  });

  let shownPresence = "";
  const renderPresence = () => {
    if (!parts) return;
    const others = [];
    const seen = new Set();
    notes.awareness.getStates().forEach((state, clientId) => {
      const other = state?.user;
      if (clientId === notes.doc.clientID || !other || typeof other.name !== "string") return;
      const key = `${other.role}:${other.name}`;
      if (seen.has(key)) return; // the same person in two tabs
      seen.add(key);
      others.push(other);
    });
    const online = connected && everSynced;
    // Awareness changes with every remote cursor move: redraw (and announce) only real changes.
    const key = JSON.stringify([online, others.map((o) => [o.role, o.name])]);
    if (key === shownPresence) return;
    shownPresence = key;
    setChildren(parts.presence, presenceLine(ctx, user, others, online));
  };
  notes.awareness.on("change", renderPresence);
  renderPresence();
  notes.connect();

  const onNetwork = () => showStatus(currentStatus());
  window.addEventListener("online", onNetwork);
  window.addEventListener("offline", onNetwork);
  // Edits typed while offline live only in this tab until they are sent: warn before leaving.
  const beforeUnload = (event) => {
    if (!notes.hasUnsentEdits()) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers ask only when this is set
  };
  window.addEventListener("beforeunload", beforeUnload);

  return {
    view: editor.view,
    ytext: notes.ytext,
    destroy() {
      clearTimeout(refusedTimer);
      window.removeEventListener("online", onNetwork);
      window.removeEventListener("offline", onNetwork);
      window.removeEventListener("beforeunload", beforeUnload);
      notes.awareness.off("change", renderPresence);
      editor.view.destroy();
      notes.destroy();
    },
  };
}

/** The status, presence and problem elements of the section around `editorRoot`, if any. */
function findParts(editorRoot) {
  const section = editorRoot.closest("section.notes");
  if (!section) return null;
  const status = section.querySelector(".notes-status");
  const help = section.querySelector(".notes-help");
  return {
    status,
    statusText: status.querySelector(".notes-status-text"),
    presence: section.querySelector(".notes-presence"),
    problem: section.querySelector(".notes-problem"),
    ids: { help: help?.id },
  };
}
