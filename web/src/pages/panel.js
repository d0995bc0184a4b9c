// The meeting panel (body[data-page=panel]): loads the meeting, the mentorship and everything
// the call needs, then composes header, pair, agenda, notes, goals and next steps.

import { notice, retryButton, signedInFooter } from "../components/layout.js";
import {
  ApiError,
  getMe,
  getMeeting,
  getMentorship,
  listActionItems,
  listAgenda,
  listGoals,
} from "../lib/api.js";
import { h, setChildren } from "../lib/dom.js";
import { browserTimeZone, displayLocale, isValidTimeZone } from "../lib/time.js";
import { actionsSection } from "../panel/actions.js";
import { agendaSection } from "../panel/agenda.js";
import { goalsSection } from "../panel/goals.js";
import { meetingHeader } from "../panel/header.js";
import { mountNotes, notesSection } from "../panel/notes.js";
import { pairSection } from "../panel/pair.js";

function loadProblem(error) {
  if (error instanceof ApiError && error.status === 401) {
    return notice({
      title: "You are signed out",
      body: "Open your personal link again to come back to this meeting.",
    });
  }
  if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
    return notice({
      title: "This meeting is not available",
      body: "It may have been removed, or it belongs to a mentorship you are not part of.",
    });
  }
  return notice({
    title: "The panel could not load",
    body: error.message,
    action: retryButton(),
    tone: "error",
  });
}

async function load(meetingId) {
  const [me, meeting] = await Promise.all([getMe(), getMeeting(meetingId)]);
  const mentorshipId = meeting.mentorship_id;
  const [mentorship, agenda, goals, actions] = await Promise.all([
    getMentorship(mentorshipId),
    listAgenda(meetingId),
    listGoals(mentorshipId),
    listActionItems(mentorshipId),
  ]);
  return {
    me,
    meeting,
    mentorship,
    agenda: agenda.items ?? [],
    goals: goals.goals ?? [],
    actions: actions.items ?? [],
  };
}

export async function renderPanel(root, settings) {
  let data;
  try {
    data = await load(settings.meetingId);
  } catch (error) {
    setChildren(root, loadProblem(error));
    return;
  }
  const person = data.me.person;
  const ctx = {
    me: person,
    meeting: data.meeting,
    mentorship: data.mentorship,
    people: { mentor: data.mentorship.mentor, mentee: data.mentorship.mentee },
    myRole: data.mentorship.my_role,
    locale: displayLocale(person.locale),
    viewerZone: isValidTimeZone(person.timezone) ? person.timezone : browserTimeZone(),
    cspNonce: settings.cspNonce,
  };
  document.title = `${data.meeting.title || "Meeting"} · Mentor Sidecar`;

  const agenda = agendaSection(ctx, data.agenda);
  const notes = notesSection(ctx);
  root.classList.add("app--panel");
  setChildren(
    root,
    meetingHeader(ctx),
    pairSection(ctx),
    h(
      "div",
      { class: "panel-grid" },
      h("div", { class: "panel-main" }, agenda.element, notes.element),
      h(
        "div",
        { class: "panel-side" },
        goalsSection(ctx, data.goals),
        actionsSection(ctx, data.actions),
      ),
    ),
    signedInFooter(person),
  );
  mountNotes(notes.editorRoot, ctx);
}
