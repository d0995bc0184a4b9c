// Home (body[data-page=home]): your mentorships when signed in; otherwise what Mentor Sidecar
// is and a form to start a mentorship.

import { notice, retryButton, signedInFooter, topBar } from "../components/layout.js";
import { signinRequestForm } from "../components/signin-request.js";
import { startForm } from "../components/start-form.js";
import { ApiError, getMe } from "../lib/api.js";
import { everyMinute } from "../lib/clock.js";
import { h, setChildren, setText } from "../lib/dom.js";
import {
  browserTimeZone,
  displayLocale,
  formatClock,
  formatDayTime,
  isValidTimeZone,
  parseInstant,
  partOfDay,
  wallClock,
  zoneCity,
} from "../lib/time.js";
import { ROLE_LABEL, otherRole } from "../lib/words.js";

function otherPersonLine(mentorship, locale) {
  const other = mentorship.other;
  if (!other) {
    return h(
      "p",
      { class: "muted" },
      mentorship.invite_pending
        ? `Waiting for your ${otherRole(mentorship.role)} to accept the invite.`
        : `No ${otherRole(mentorship.role)} yet.`,
    );
  }
  const relation =
    mentorship.role === "mentor" ? `You mentor ${other.name}.` : `${other.name} mentors you.`;
  const clock = h("span", { class: "inline-clock" });
  const zone = other.timezone || "UTC";
  everyMinute((now) =>
    setText(
      clock,
      `${formatClock(now, zone, locale)} (${partOfDay(wallClock(now, zone).hour)}) in ${zoneCity(zone)}`,
    ),
  );
  return h(
    "p",
    {},
    relation,
    " ",
    h("span", { class: "muted" }, `For ${other.name.split(/\s+/)[0]} it is `, clock, "."),
  );
}

/** "Open the next meeting — Thu 4 Dec, 14:00" (in your time zone), "… — on now" when live. */
function nextMeetingLabel(mentorship, zone, locale) {
  if (mentorship.next_meeting_status === "live") return "Open the next meeting — on now";
  const start = parseInstant(mentorship.next_meeting_start);
  return start
    ? `Open the next meeting — ${formatDayTime(start, zone, locale)}`
    : "Open the next meeting";
}

function mentorshipCard(mentorship, locale, zone) {
  return h(
    "li",
    { class: "card mentorship", dataset: { mentorshipId: mentorship.id } },
    h(
      "div",
      { class: "card-head" },
      h("h3", {}, mentorship.title || "Mentorship"),
      h("span", { class: `pill pill--${mentorship.role}` }, `You: ${ROLE_LABEL[mentorship.role] ?? mentorship.role}`),
    ),
    otherPersonLine(mentorship, locale),
    mentorship.next_meeting_id
      ? h(
          "a",
          {
            class: "button button--primary",
            href: `/meetings/${encodeURIComponent(mentorship.next_meeting_id)}`,
          },
          nextMeetingLabel(mentorship, zone, locale),
        )
      : h("p", { class: "muted" }, "No meeting scheduled yet."),
    h(
      "a",
      { class: "agreement-link", href: `/mentorships/${encodeURIComponent(mentorship.id)}/agreement` },
      mentorship.next_meeting_id ? "Agreement and schedule" : "Agreement and schedule: plan your meetings",
    ),
  );
}

function signedInView(me) {
  const locale = displayLocale(me.person.locale);
  const zone = isValidTimeZone(me.person.timezone) ? me.person.timezone : browserTimeZone();
  const first = me.person.name.split(/\s+/)[0];
  const list = me.mentorships ?? [];
  return [
    topBar(h("a", { class: "topbar-link", href: "/me" }, "Your profile")),
    h(
      "header",
      { class: "page-header" },
      h("h1", {}, `Hello, ${first}`),
      h("p", { class: "lead" }, "Your mentorships, and the next meeting of each."),
    ),
    h(
      "section",
      { class: "stack", "aria-labelledby": "mentorships-heading" },
      h("h2", { id: "mentorships-heading" }, "Your mentorships"),
      list.length
        ? h("ul", { class: "mentorship-list" }, list.map((m) => mentorshipCard(m, locale, zone)))
        : h("p", { class: "empty-prompt" }, "You are not in a mentorship yet."),
    ),
    h(
      "details",
      { class: "card start-another", open: list.length === 0 },
      h("summary", {}, "Start another mentorship"),
      startForm({ signedIn: true }),
    ),
    signedInFooter(me.person),
  ];
}

function welcomeView() {
  const feature = (title, text) => h("li", {}, h("strong", {}, title), " ", text);
  return [
    topBar(h("a", { class: "topbar-link", href: "#signin" }, "Sign in")),
    h(
      "header",
      { class: "page-header hero" },
      h("h1", {}, "A calm companion for mentoring across distance"),
      h(
        "p",
        { class: "lead" },
        "Mentor Sidecar opens beside your video call, in Zoom or next to Jitsi, and keeps a mentor and a mentee who live far apart on the same page.",
      ),
      h(
        "ul",
        { class: "feature-list" },
        feature("Both clocks at a glance.", "Each other's local time, and when the meeting starts for each of you."),
        feature(
          "An agenda with a shape.",
          "Review last time's next steps, celebrate successes, name the challenges, check the goals, plan the next stretch. The mentee can prepare it before the call.",
        ),
        feature("Goals and next steps that carry over.", "What you agree today is waiting for you next time."),
        feature("Notes in one place.", "Dated and shared, so neither of you has to keep them alone."),
      ),
    ),
    h(
      "section",
      { id: "start", class: "card", "aria-labelledby": "start-heading" },
      h("h2", { id: "start-heading" }, "Start a mentorship"),
      startForm({ signedIn: false }),
    ),
    h(
      "section",
      { id: "signin", class: "card", "aria-labelledby": "signin-heading" },
      h("h2", { id: "signin-heading" }, "Already in a mentorship?"),
      h(
        "p",
        { class: "section-intro" },
        "Sign in with a link: every email from Mentor Sidecar has one, or have a new one sent to you.",
      ),
      signinRequestForm({ heading: null }),
    ),
  ];
}

export async function renderHome(root) {
  root.classList.add("app--narrow");
  let me = null;
  try {
    me = await getMe();
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) {
      setChildren(
        root,
        topBar(),
        notice({ title: "Mentor Sidecar could not load", body: error.message, action: retryButton(), tone: "error" }),
      );
      return;
    }
  }
  setChildren(root, ...(me ? signedInView(me) : welcomeView()));
}
