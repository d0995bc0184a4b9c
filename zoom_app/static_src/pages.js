// The Zoom App's pages (body[data-page]):
//   zoom          the Home URL for a linked Zoom user: ties this Zoom meeting to the pair's
//                 meeting (picked once, remembered per Zoom meeting) and opens the panel
//   zoom-link     an unknown Zoom user: how to link their account (never anyone's data)
//   zoom-problem  the Zoom context could not be verified, Zoom refused, ... (title says what)
// Outside Zoom the SDK is never loaded and /zoom/home sends a signed-in person to their home.
//
// A platform script (sidecar/platforms/hookspecs.py, FrontEnd), built by web/build.mjs into
// zoom_app/static/pages.js (the SDK in its own chunk beside it) and served by the core at
// /static/platforms/zoom/pages.js on these pages only. It imports nothing of the core: the API
// client, the DOM and form helpers and the meeting panel come as `core` (web/README.md,
// "Platform scripts").

import { zoomApi } from "./api.js";
import { nextEvent, startZoom } from "./sdk.js";

let core = null; // set by each page's renderer, before anything else runs
let api = null;
const h = (...args) => core.h(...args);
const setChildren = (...args) => core.setChildren(...args);
const notice = (...args) => core.notice(...args);
const retryButton = () => core.retryButton();
const topBar = (...args) => core.topBar(...args);

function useCore(given) {
  core = given;
  api = zoomApi(given.request);
}

function zoomNotice(root, options) {
  root.classList.add("app--narrow", "app--zoom");
  setChildren(root, notice(options));
}

function digits(value) {
  return String(value ?? "").replace(/\D/g, "");
}

/** Open the pair's panel for this meeting, and end it when Zoom says the meeting ended. */
async function openPanel(root, settings, zoomSdk, meetingId) {
  root.classList.add("app--zoom");
  document.body.dataset.zoomMeeting = meetingId;
  // Listen first: Zoom may say the meeting ended while the panel's chunk is still loading.
  let ending = false;
  zoomSdk.onMeeting(async (event) => {
    if (event?.action !== "ended" || ending) return;
    ending = true;
    try {
      await api.zoomMeetingEnded(meetingId);
      document.body.dataset.zoomEnded = "yes";
    } catch {
      ending = false; // the service was unreachable; the webhook or End meeting will end it
    }
  });
  // The panel's chunk (the notes editor) only once this Zoom meeting is tied to one of ours.
  await core.renderPanel(root, { ...settings, meetingId, inCall: true }); // in the call: notes first
}

function mentorshipChoice(mentorship, onPick) {
  const other = mentorship.other?.name;
  const role = mentorship.role === "mentor" ? "You mentor" : "Your mentor is";
  return h(
    "li",
    { class: "card zoom-choice", dataset: { mentorshipId: mentorship.id } },
    h("h2", { class: "zoom-choice-title" }, mentorship.title),
    h("p", { class: "muted" }, other ? `${role} ${other}.` : "Waiting for the other person to join."),
    h(
      "button",
      {
        type: "button",
        class: "button button--primary",
        onclick: (event) => onPick(mentorship, event.currentTarget),
      },
      "Open the panel for this mentorship",
    ),
  );
}

function pickMentorship(root, context, meetingTopic, zoomName, onPicked) {
  const status = h("p", { class: "field-error", role: "alert", hidden: true });
  async function onPick(mentorship, button) {
    button.disabled = true;
    status.hidden = true;
    try {
      await onPicked(mentorship);
    } catch (error) {
      status.textContent = error.message;
      status.hidden = false;
      button.disabled = false;
    }
  }
  root.classList.add("app--narrow", "app--zoom");
  setChildren(
    root,
    topBar(),
    h(
      "header",
      { class: "page-header", id: "zoom-pick" },
      h("h1", {}, "Which mentorship is this meeting for?"),
      h(
        "p",
        { class: "lead" },
        meetingTopic ? `“${meetingTopic}” is not linked to a mentorship yet. ` : "This Zoom meeting is not linked to a mentorship yet. ",
        "Pick one once: Mentor Sidecar remembers it for this Zoom meeting, recurring ones included.",
      ),
      zoomName ? h("p", { class: "muted zoom-user" }, `In Zoom as ${zoomName}.`) : null,
    ),
    status,
    h("ul", { class: "stack zoom-choices", style: "list-style:none;padding:0;margin:0" }, context.mentorships.map((m) => mentorshipChoice(m, onPick))),
  );
}

async function renderZoom(root, settings, given) {
  useCore(given);
  const started = await startZoom();
  if (!started) {
    // A plain browser: the Zoom App's home is the person's own home page.
    window.location.replace("/");
    return;
  }
  const { sdk } = started.zoom;
  document.body.dataset.zoom = "in-client";
  if (started.config.runningContext && started.config.runningContext !== "inMeeting") {
    zoomNotice(root, {
      title: "Open Mentor Sidecar during your meeting",
      body: "Start or join your mentoring meeting in Zoom, then open Mentor Sidecar from Apps: the panel opens beside the call.",
    });
    return;
  }
  // Which occurrence (UUID), which meeting (its number, recurring ones included) and who is
  // asking in Zoom (their Zoom name, shown so a shared computer's wrong account is obvious).
  const [uuid, meeting, user] = await Promise.all([
    sdk.getMeetingUUID(),
    sdk.getMeetingContext(),
    sdk.getUserContext().catch(() => null),
  ]);
  const zoomMeeting = {
    zoom_meeting_id: digits(meeting?.meetingID),
    meeting_uuid: uuid?.meetingUUID || null,
  };
  let context;
  try {
    context = await api.zoomMeetingContext(zoomMeeting);
  } catch (error) {
    if (error instanceof core.ApiError && error.status === 401) {
      window.location.replace("/zoom/home");
      return;
    }
    zoomNotice(root, { title: "The panel could not load", body: error.message, action: retryButton(), tone: "error" });
    return;
  }
  if (context.meeting_id) {
    await openPanel(root, settings, sdk, context.meeting_id);
    return;
  }
  if (context.mentorship_id) {
    zoomNotice(root, {
      title: "No meeting is planned",
      body: "This Zoom meeting belongs to your mentorship, but no meeting of yours is planned now. Plan one on the agreement page, then open the app again.",
      action: h("a", { class: "button", href: `/mentorships/${encodeURIComponent(context.mentorship_id)}/agreement` }, "Plan meetings"),
    });
    return;
  }
  if (!context.mentorships.length) {
    zoomNotice(root, {
      title: "You are not in a mentorship yet",
      body: "Start one, or accept the invite your mentoring partner sent you; then open the app again.",
      action: h("a", { class: "button", href: "/" }, "Start a mentorship"),
    });
    return;
  }
  pickMentorship(root, context, meeting?.meetingTopic, user?.screenName, async (mentorship) => {
    const linked = await api.linkZoomMeeting(mentorship.id, zoomMeeting);
    if (!linked.meeting_id) {
      zoomNotice(root, {
        title: "No meeting is planned",
        body: `This Zoom meeting is now linked to “${mentorship.title}”, but no meeting is planned. Plan one, then open the app again.`,
      });
      return;
    }
    await openPanel(root, settings, sdk, linked.meeting_id);
  });
}

// --- an unknown Zoom user ---------------------------------------------------------------------

function linkForm(sdk) {
  const codeField = core.field({
    name: "link_code",
    label: "Link code",
    hint: "On your Mentor Sidecar profile page (in your browser), choose “Get a link code for Zoom”.",
    autocomplete: "one-time-code",
    maxlength: 32,
    placeholder: "ABCD-EFGH",
    required: true,
  });
  const button = h("button", { type: "submit", class: "button button--primary" }, "Link with Zoom");
  const form = h(
    "form",
    { class: "card", id: "zoom-link-form", novalidate: true },
    h("h2", {}, "Link in Zoom"),
    codeField,
    h("p", { class: "form-message field-error", role: "alert", hidden: true }),
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    core.clearErrors(form);
    button.disabled = true;
    try {
      const linkCode = form.elements.link_code.value.trim();
      const { codeChallenge, state } = await api.startInClientOAuth();
      const authorized = nextEvent(sdk, "onAuthorized");
      await sdk.authorize({ codeChallenge, state });
      const event = await authorized; // the code arrives as an event, not as authorize()'s result
      if (event?.state !== state) throw new core.ApiError(400, "Zoom answered for another sign-in. Try again.");
      const done = await api.finishInClientOAuth({ code: event.code, state, link_code: linkCode });
      window.location.assign(done.next || "/zoom/home");
    } catch (error) {
      core.showErrors(form, error instanceof core.ApiError ? error : new core.ApiError(0, error?.message ?? String(error)));
      button.disabled = false;
    }
  });
  return form;
}

async function renderZoomLink(root, settings, given) {
  useCore(given);
  const started = await startZoom();
  root.classList.add("app--narrow", "app--zoom");
  const steps = h(
    "ol",
    { class: "zoom-steps" },
    h("li", {}, "Open your personal Mentor Sidecar link in your browser and go to ", h("a", { href: "/me" }, "your profile"), "."),
    h("li", {}, "Under Zoom, choose “Connect Zoom”, or “Get a link code for Zoom” to link from here."),
    h("li", {}, "Come back to this meeting and open Mentor Sidecar again."),
  );
  setChildren(
    root,
    topBar(),
    h(
      "section",
      { class: "notice", id: "zoom-link" },
      h("h1", { class: "notice-title" }, "Link your Zoom account"),
      h(
        "p",
        {},
        "This Zoom account is not linked to Mentor Sidecar yet, so the panel cannot know which mentorship is yours. Nothing of anyone's mentorship is shown until it is.",
      ),
      steps,
    ),
    started ? linkForm(started.zoom.sdk) : null,
  );
}

async function renderZoomProblem(root, settings, given) {
  useCore(given);
  zoomNotice(root, {
    title: document.title || "Something went wrong with Zoom",
    body: "Close Mentor Sidecar in Zoom and open it again. If this keeps happening, connect Zoom again from your profile.",
    tone: "error",
  });
}

/** The pages this script draws (web/src/platforms.js picks the one in body[data-page]). */
export const pages = { zoom: renderZoom, "zoom-link": renderZoomLink, "zoom-problem": renderZoomProblem };
