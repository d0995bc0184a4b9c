// The "Live notes" region: one Markdown page both people type into during the call.
// notesSection() draws the card; mountNotes() connects the shared document (src/notes/) and
// mounts the editor into #notes-editor, with a connection status, who is here, and a tip.

import { ApiError, getMeeting } from "../lib/api.js";
import { h, setChildren, setText, uid } from "../lib/dom.js";
import { closeKind, connectNotes } from "../notes/connection.js";
import { createNotesEditor, MAX_INSERT } from "../notes/editor.js";
import { keepNotesLocally } from "../notes/local.js";

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
// While this browser keeps a copy, what is typed offline survives closing the tab too.
const STATUS_TEXT_KEPT = {
  ...STATUS_TEXT,
  reconnecting: "Reconnecting… your edits are kept in this browser and sync when you're back",
  offline: "You're offline: your edits are kept in this browser and sync when you're back online",
};

// After this many failed connections in a row, ask the API why: a meeting erased or a session
// revoked while the socket was down only shows as a refused upgrade (an HTTP 403), which
// y-websocket keeps retrying.
const PROBE_AFTER_FAILURES = 3;
const PROBE_EVERY_FAILURES = 10;

/**
 * What the card says after a final close (see closeKind): a title, what happened, what to do.
 * `kept`: this browser still holds what was typed (so it is sent once the person is back).
 */
function closedMessage(kind, { code }, kept) {
  const typed = kept
    ? "What you typed is still below and kept in this browser; it syncs when you open these notes again."
    : "What you typed is still below: copy anything you need before you leave this page.";
  if (kind === "revoked") {
    return {
      title: "Your access was revoked",
      body: [
        "You were signed out (here or from another device), so these notes stopped syncing. ",
        h("a", { href: "/" }, "Sign in again"),
        " with your personal link, then open this meeting again. ",
        typed,
      ],
    };
  }
  if (kind === "erased") {
    return {
      title: "This mentorship was erased",
      body: [
        "Its meetings and notes are gone from the service, so nothing more is saved here, and this browser's copy was removed. The text below is only on this screen now: copy it if you want to keep it.",
      ],
    };
  }
  if (kind === "full") {
    return {
      title: "These notes are full",
      body: [
        "This meeting's notes reached their size limit, so your last change was not saved and editing has stopped. Carry on in the next meeting's notes (copy what you last typed from below), and use “Download .md” to keep what was saved.",
      ],
    };
  }
  if (code === 1009) {
    return {
      title: "This connection had a problem",
      body: [
        "A change was too large to send (a very long paste?), so syncing stopped. Copy anything you typed since, then reload the page: it continues from the saved notes.",
      ],
    };
  }
  return {
    title: "This connection had a problem",
    body: [
      `Something went wrong between this page and the notes service (code ${code}), so syncing stopped. `,
      kept
        ? "Reload the page to continue: what you typed is kept in this browser and is sent then."
        : "Copy anything you typed since, then reload the page to continue.",
    ],
  };
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
  // The person's id goes along so that their own other tabs, and anyone's two tabs, count once.
  const user = { name: ctx.me.name, role, id: ctx.me.id, ...COLORS[role] };
  let everSynced = false;
  let connected = false;
  let failedBefore = false; // a connection closed (or was refused) since the page opened
  let closed = false;
  let refusedTimer = 0;

  const showStatus = (key) => {
    if (!parts) return;
    parts.status.dataset.connection = key;
    setText(parts.statusText, (local.isKeeping() ? STATUS_TEXT_KEPT : STATUS_TEXT)[key]);
  };
  const currentStatus = () => {
    if (closed) return "closed";
    if (connected) return everSynced && notes.provider.synced ? "connected" : "syncing";
    if (!everSynced && !failedBefore) return "connecting";
    return navigator.onLine === false ? "offline" : "reconnecting";
  };

  /** A final close: say what happened, stop editing, keep the text on screen. */
  const stop = async (kind, event) => {
    if (closed) return;
    closed = true;
    notes.provider.disconnect(); // never resend: an erased room must not be brought back
    editor.setEditable(false);
    showStatus("closed");
    // Erased: nothing of it may stay in this browser. Full (4413) or too large (1009): the local
    // copy holds the refused change, which every later visit would send again and be refused
    // for, locking this browser out of these notes. Otherwise it stays, to sync next time.
    const forget = kind === "erased" || kind === "full" || event.code === 1009;
    if (parts) {
      const { title, body } = closedMessage(kind, event, !forget && local.isKeeping());
      setChildren(
        parts.problem,
        h("p", { class: "notes-problem-title" }, h("strong", {}, title)),
        h("p", {}, ...body),
      );
      parts.problem.dataset.kind = kind;
      parts.problem.hidden = false;
    }
    if (kind === "erased") ctx.onGone?.(); // the panel says so at the top and stops its sockets
    await (forget ? local.forget() : local.close());
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
          if (!closed) editor.setEditable(true);
        }
        showStatus(currentStatus());
        renderPresence();
      },
      onClosed(event) {
        const kind = closeKind(event.code);
        if (kind !== "transient") stop(kind, event);
      },
    },
  );
  // This meeting's notes in this browser: loaded before connecting, so edits typed offline on an
  // earlier visit go out in this connection's first sync.
  const local = keepNotesLocally(notes.doc, {
    mentorshipId: ctx.meeting.mentorship_id ?? ctx.mentorship?.id,
    meetingId: ctx.meeting.id,
  });

  // A refused upgrade looks like any network failure; after a few, ask the API whether the
  // meeting is still there and we are still signed in.
  let probing = false;
  const onConnectionClose = async () => {
    failedBefore = true;
    showStatus(currentStatus());
    const failures = notes.provider.wsUnsuccessfulReconnects + 1; // counted after this event
    if (closed || probing || failures < PROBE_AFTER_FAILURES) return;
    if ((failures - PROBE_AFTER_FAILURES) % PROBE_EVERY_FAILURES !== 0) return;
    probing = true;
    try {
      await getMeeting(ctx.meeting.id);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) stop("revoked", { code: 4401 });
      else if (error instanceof ApiError && (error.status === 404 || error.status === 403)) {
        stop("erased", { code: 4410 });
      }
    } finally {
      probing = false;
    }
  };
  notes.provider.on("connection-close", onConnectionClose);

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
      parts.problem.dataset.kind = "paste";
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
      if (other.id ? other.id === ctx.me.id : other.role === role && other.name === user.name) {
        return; // you, in another tab
      }
      const key = other.id ?? `${other.role}:${other.name}`;
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
  let destroyed = false;
  local.ready.then(() => {
    if (destroyed || closed) return;
    if (parts) parts.status.dataset.local = local.isKeeping() ? "kept" : "none";
    notes.connect();
  });

  const onNetwork = () => showStatus(currentStatus());
  window.addEventListener("online", onNetwork);
  window.addEventListener("offline", onNetwork);
  // Edits typed while offline live only in this tab when this browser keeps no copy of them:
  // then warn before leaving.
  const beforeUnload = (event) => {
    if (local.isKeeping() || !notes.hasUnsentEdits()) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers ask only when this is set
  };
  window.addEventListener("beforeunload", beforeUnload);

  return {
    view: editor.view,
    ytext: notes.ytext,
    destroy() {
      destroyed = true;
      clearTimeout(refusedTimer);
      window.removeEventListener("online", onNetwork);
      window.removeEventListener("offline", onNetwork);
      window.removeEventListener("beforeunload", beforeUnload);
      notes.awareness.off("change", renderPresence);
      notes.provider.off("connection-close", onConnectionClose);
      editor.view.destroy();
      local.close();
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
