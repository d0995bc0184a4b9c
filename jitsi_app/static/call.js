// The call page (body[data-page=jitsi], /meetings/{id}/call): the Jitsi meeting embedded with
// the IFrame API (external_api.js from the configured server) and the meeting panel beside it.
//
// A platform script (sidecar/platforms/hookspecs.py, FrontEnd): shipped in jitsi_app/static/,
// served by the core at /static/platforms/jitsi/call.js and imported by the core's panel.js on
// this page only. It imports nothing: what it needs of the core (the API client, the DOM
// helpers, the notice, the meeting panel) comes as `core` (web/README.md, "Platform scripts").
//
// - Jitsi's toolbar gets a "Mentor Sidecar" button (customToolbarButtons) that shows or hides the
//   panel, like the toggle in the bar above the call.
// - The prejoin screen is skipped; the display name and email are the person's profile.
// - videoConferenceJoined / videoConferenceLeft / readyToClose and the hang-up buttons
//   (buttonsWithNotifyClick, so the click is reported and still hangs up) are sent to the
//   service, which records attendance and, when the last person hangs up, ends the meeting.
//   participantJoined / participantLeft tell the page who else is still in the call.

let core = null; // set by renderJitsi
const h = (...args) => core.h(...args);
const setChildren = (...args) => core.setChildren(...args);
const setText = (...args) => core.setText(...args);
const notice = (...args) => core.notice(...args);

// The call page's two endpoints (jitsi_app/api.py): what to join, and what the call did.
const seg = encodeURIComponent;
/** {configured, message, domain, script_url, room_name, jwt, display_name, email, moderator, warning} */
const getJitsiCall = (meetingId) => core.request("GET", `/api/v1/meetings/${seg(meetingId)}/jitsi`);
/** Report one iframe event: {event, key?, room_name?, others_in_call} -> {recorded, ended, status}. */
const reportJitsiEvent = (meetingId, body) =>
  core.request("POST", `/api/v1/meetings/${seg(meetingId)}/jitsi/events`, body);

export const PANEL_BUTTON = "sidecar-panel";
const PANEL_STORE = "sidecar.callPanel";
const SCRIPT_TIMEOUT_MS = 20000;
// A sidebar glyph for Jitsi's toolbar (it takes an image URL for custom buttons).
const PANEL_ICON =
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#fff" ' +
      'stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><rect x="3" y="4" ' +
      'width="18" height="16" rx="2"/><path d="M15 4v16M18 8h-1M18 11h-1M18 14h-1"/></svg>',
  );
const TOOLBAR = [
  "microphone",
  "camera",
  "desktop",
  "chat",
  "raisehand",
  "tileview",
  "participants-pane",
  "select-background",
  "settings",
  "fullscreen",
  "toggle-camera",
  "hangup",
  PANEL_BUTTON,
];

function readPanelPreference() {
  try {
    return window.localStorage.getItem(PANEL_STORE) !== "closed";
  } catch {
    return true;
  }
}

function savePanelPreference(open) {
  try {
    window.localStorage.setItem(PANEL_STORE, open ? "open" : "closed");
  } catch {
    // Private windows may refuse storage; the toggle still works for this visit.
  }
}

/** Load external_api.js once; resolves when window.JitsiMeetExternalAPI exists. */
function loadExternalApi(src) {
  if (typeof window.JitsiMeetExternalAPI === "function") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    const timer = setTimeout(() => reject(new Error("timed out")), SCRIPT_TIMEOUT_MS);
    script.src = src;
    script.async = true;
    script.onload = () => {
      clearTimeout(timer);
      if (typeof window.JitsiMeetExternalAPI === "function") resolve();
      else reject(new Error("external_api.js did not define JitsiMeetExternalAPI"));
    };
    script.onerror = () => {
      clearTimeout(timer);
      script.remove();
      reject(new Error("the script could not be loaded"));
    };
    document.head.append(script);
  });
}

/** The options of `new JitsiMeetExternalAPI(domain, options)` for this person and room. */
export function callOptions(info, parentNode) {
  const options = {
    roomName: info.room_name,
    parentNode,
    width: "100%",
    height: "100%",
    userInfo: { displayName: info.display_name, email: info.email },
    configOverwrite: {
      prejoinConfig: { enabled: false },
      prejoinPageEnabled: false, // the same, for Jitsi servers older than prejoinConfig
      disableDeepLinking: true, // stay in the browser on phones: the panel lives here
      toolbarButtons: TOOLBAR,
      customToolbarButtons: [
        { id: PANEL_BUTTON, icon: PANEL_ICON, text: "Show or hide the Mentor Sidecar panel" },
      ],
      buttonsWithNotifyClick: [
        { key: "hangup", preventExecution: false },
        { key: "end-meeting", preventExecution: false },
      ],
    },
    interfaceConfigOverwrite: { MOBILE_APP_PROMO: false },
  };
  if (info.jwt) options.jwt = info.jwt;
  return options;
}

async function renderJitsi(root, settings, sidecar) {
  core = sidecar;
  const { ApiError } = core;
  const meetingId = settings.meetingId;
  root.className = "call-page";

  const panelRoot = h("div", { class: "app call-panel" });
  const side = h("aside", { class: "call-side", id: "call-side", "aria-label": "Meeting panel" }, panelRoot);
  const stage = h("div", { class: "call-stage", id: "call-stage" });
  const statusText = h("span", { class: "call-state", role: "status" }, "Connecting…");
  const toggle = h(
    "button",
    {
      type: "button",
      class: "call-toggle",
      "aria-controls": "call-side",
      "aria-expanded": "true",
      onclick: () => setPanel(layout.dataset.panel !== "open"),
    },
    "Hide panel",
  );
  const bar = h(
    "div",
    { class: "call-bar" },
    h("a", { class: "call-brand", href: "/" }, h("span", { class: "brand-mark", "aria-hidden": "true" }), "Mentor Sidecar"),
    statusText,
    h("a", { class: "call-back", href: `/meetings/${encodeURIComponent(meetingId)}` }, "Panel only"),
    toggle,
  );
  const layout = h(
    "div",
    { class: "call-layout", dataset: { panel: "open" } },
    h("section", { class: "call-main", "aria-label": "Video call" }, bar, stage),
    side,
  );
  setChildren(root, layout);

  function setPanel(open) {
    layout.dataset.panel = open ? "open" : "closed";
    side.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    setText(toggle, open ? "Hide panel" : "Show panel");
    savePanelPreference(open);
  }
  setPanel(readPanelPreference());

  // The panel and the call load side by side; neither waits for the other.
  const panelReady = core.renderPanel(panelRoot, { ...settings, inCall: true });

  function showNotice(title, body, action = null, tone = "info") {
    setChildren(stage, h("div", { class: "call-notice" }, notice({ title, body, action, tone })));
  }

  let info;
  try {
    info = await getJitsiCall(meetingId);
  } catch (error) {
    setText(statusText, "No call");
    if (error instanceof ApiError && error.status === 401) {
      showNotice("You are signed out", "Open your personal link again to come back to this call.");
    } else if (error instanceof ApiError && error.status === 404) {
      showNotice("This meeting is not available", "It may have been removed, or it is not yours.");
    } else {
      showNotice("The call could not load", error.message, null, "error");
    }
    await panelReady;
    return;
  }
  if (!info.configured) {
    setText(statusText, "No video call here");
    showNotice("Video calls are not set up", [
      info.message,
      "The panel beside works as usual: agenda, live notes and the summary after the call.",
    ]);
    await panelReady;
    return;
  }
  if (info.warning) {
    bar.after(h("p", { class: "call-warning", role: "note" }, info.warning));
  }

  const session = callSession({ info, meetingId, stage, statusText, setPanel, layout, showNotice });
  await Promise.all([panelReady, session.start()]);
}

/** One embedded call: the iframe, its events, and what the page shows after leaving it. */
function callSession({ info, meetingId, stage, statusText, setPanel, layout, showNotice }) {
  let api = null;
  const others = new Set(); // participant ids of everyone else in the call
  let reports = Promise.resolve(); // reports go out one at a time, in the order they happened
  let ended = false;

  function report(body) {
    reports = reports
      .then(() => reportJitsiEvent(meetingId, body))
      .then((result) => {
        if (result?.status === "ended") ended = true;
      })
      .catch(() => {
        // A lost report is not fatal: Prosody's events, or the idle check, end the meeting.
      });
    return reports;
  }

  function rejoinButton() {
    return h("button", { type: "button", class: "button button--primary", onclick: () => start() }, "Rejoin the call");
  }

  async function closed() {
    await reports;
    api?.dispose();
    api = null;
    setText(statusText, ended ? "Meeting ended" : "You left the call");
    if (ended) {
      showNotice("The meeting has ended", [
        "The summary is on its way to both of you by email.",
        "It is also in the panel, with the notes and next steps.",
      ]);
    } else {
      showNotice("You left the call", "The meeting goes on until both of you have left.", rejoinButton());
    }
  }

  async function start() {
    setChildren(stage, h("p", { class: "call-loading" }, "Starting the call…"));
    setText(statusText, "Connecting…");
    try {
      await loadExternalApi(info.script_url);
    } catch (error) {
      setText(statusText, "No call");
      showNotice(
        "The call could not start",
        `The Jitsi server at ${info.base_url} did not answer (${error.message}).`,
        h("button", { type: "button", class: "button", onclick: () => start() }, "Try again"),
        "error",
      );
      return;
    }
    const parent = h("div", { class: "call-frame", id: "jitsi-frame" });
    setChildren(stage, parent);
    others.clear();
    api = new window.JitsiMeetExternalAPI(info.domain, callOptions(info, parent));
    api.addListener("videoConferenceJoined", (event) => {
      others.clear();
      setText(statusText, "In the call");
      report({ event: "videoConferenceJoined", room_name: event?.roomName ?? null });
    });
    api.addListener("participantJoined", (event) => {
      if (event?.id) others.add(event.id);
    });
    api.addListener("participantLeft", (event) => {
      others.delete(event?.id);
    });
    api.addListener("videoConferenceLeft", (event) => {
      setText(statusText, "Leaving…");
      report({ event: "videoConferenceLeft", room_name: event?.roomName ?? null });
    });
    api.addListener("toolbarButtonClicked", (event) => {
      const key = event?.key;
      if (key === PANEL_BUTTON) {
        setPanel(layout.dataset.panel !== "open");
      } else if (key === "hangup" || key === "end-meeting") {
        report({ event: "toolbarButtonClicked", key, others_in_call: others.size });
      }
    });
    api.addListener("readyToClose", () => {
      report({ event: "readyToClose", others_in_call: others.size });
      closed();
    });
  }

  // Leaving the page leaves the call at once, so the other person sees it straight away.
  window.addEventListener("pagehide", () => api?.executeCommand("hangup"));

  return { start };
}

/** The pages this script draws (the core's panel.js calls it for body[data-page=jitsi]). */
export const pages = { jitsi: renderJitsi };
