// The meeting panel (body[data-page=panel]): loads the meeting, the mentorship and everything
// the call needs, then composes header (with the meeting clock), pair, live notes, agenda,
// goals, next steps, prompts and the agreement. The live events socket tells it what another
// person (or another tab) changed; it refetches that part.

import { notice, retryButton, signedInFooter } from "../components/layout.js";
import {
  ApiError,
  getAgreement,
  getMe,
  getMeeting,
  getMentorship,
  listActionItems,
  listAgenda,
  listGoals,
  listMeetingAgreements,
  listMeetings,
  listOpenActionItems,
} from "../lib/api.js";
import { callLink } from "../jitsi/link.js";
import { h, setChildren } from "../lib/dom.js";
import { connectEvents } from "../lib/events.js";
import { browserTimeZone, displayLocale, isValidTimeZone } from "../lib/time.js";
import { actionsSection } from "../panel/actions.js";
import { endControl, endedCard, wrapupCard } from "../panel/after.js";
import { agendaSection } from "../panel/agenda.js";
import { agreementCard } from "../panel/agreement-card.js";
import { goalsSection } from "../panel/goals.js";
import { meetingHeader } from "../panel/header.js";
import { forgetLocalNotes } from "../notes/local.js";
import { mountNotes, notesSection } from "../panel/notes.js";
import { outcomesSection } from "../panel/outcomes.js";
import { pairSection } from "../panel/pair.js";
import { pastMeetingsCard } from "../panel/past.js";
import { promptsSection } from "../panel/prompts.js";

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
  const [mentorship, agenda, goals, actions, meetings, agreement, outcomes, openSteps] =
    await Promise.all([
      getMentorship(mentorshipId),
      listAgenda(meetingId),
      listGoals(mentorshipId),
      listActionItems(mentorshipId),
      listMeetings(mentorshipId).catch(() => ({ meetings: [] })),
      getAgreement(mentorshipId).catch(() => null),
      listMeetingAgreements(meetingId),
      listOpenActionItems(mentorshipId),
    ]);
  return {
    me,
    meeting,
    mentorship,
    agenda,
    goals: goals.goals ?? [],
    actions: actions.items ?? [],
    meetings: meetings.meetings ?? [],
    agreement,
    meetingAgreements: outcomes.agreements ?? [],
    openSteps: openSteps.items ?? [],
  };
}

/** This meeting's place among the pair's meetings (0 = the first), by scheduled start. */
function meetingIndex(meetings, meeting) {
  const sorted = [...meetings].sort((a, b) =>
    String(a.scheduled_start).localeCompare(String(b.scheduled_start)),
  );
  return sorted.findIndex((m) => m.id === meeting.id);
}

export async function renderPanel(root, settings) {
  let data;
  try {
    data = await load(settings.meetingId);
  } catch (error) {
    setChildren(root, loadProblem(error));
    // A meeting gone (its mentorship erased while this browser was away) leaves no notes here.
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
      await forgetLocalNotes({ meetingId: settings.meetingId });
    }
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
    refetch: null,
  };
  document.title = `${data.meeting.title || "Meeting"} · Mentor Sidecar`;

  const header = meetingHeader(ctx);
  const agenda = agendaSection(ctx, data.agenda);
  const notes = notesSection(ctx);
  const goals = goalsSection(ctx, data.goals);
  const actions = actionsSection(ctx, data.actions);
  const agreement = data.agreement ? agreementCard(ctx, data.agreement) : null;
  const prompts = promptsSection(ctx, meetingIndex(data.meetings, data.meeting));
  const ended = endedCard(ctx);
  const wrapup = wrapupCard(ctx);
  const outcomes = outcomesSection(ctx, { agreements: data.meetingAgreements, steps: data.openSteps });
  const past = pastMeetingsCard(ctx, data.meetings);
  // The meeting changed (moved, started, ended): every part that depends on its state follows.
  let wasEnded = data.meeting.status === "ended";
  function meetingChanged(meeting) {
    ctx.meeting = meeting;
    header.update(meeting);
    agenda.updateMeeting(meeting);
    end.update(meeting);
    ended.update(meeting);
    wrapup.update(meeting);
    outcomes.updateMeeting();
    if (meeting.status === "ended" && !wasEnded) {
      wasEnded = true;
      past.refresh();
      ended.element.scrollIntoView?.({ block: "nearest" });
    }
  }
  const end = endControl(ctx, { onEnded: meetingChanged });
  header.element.append(end.element);
  header.element.querySelector(".status-row")?.append(callLink(ctx, settings));

  // Refetch one part of the panel; several events in a burst cost one request each part.
  const mentorshipId = data.meeting.mentorship_id;
  const fetchers = {
    agenda: async () => agenda.update(await listAgenda(ctx.meeting.id)),
    actions: async () => {
      const [list, agendaData, open, made] = await Promise.all([
        listActionItems(mentorshipId),
        listAgenda(ctx.meeting.id),
        listOpenActionItems(mentorshipId),
        listMeetingAgreements(ctx.meeting.id),
      ]);
      actions.update(list.items ?? []);
      agenda.update(agendaData);
      outcomes.update({ agreements: made.agreements ?? [], steps: open.items ?? [] });
    },
    goals: async () => goals.update((await listGoals(mentorshipId)).goals ?? []),
    meeting: async () => {
      meetingChanged(await getMeeting(ctx.meeting.id));
    },
    agreement: async () => agreement?.update(await getAgreement(mentorshipId)),
  };
  const running = new Map(); // part -> {again: bool}
  async function refetch(part) {
    const fetcher = fetchers[part];
    if (!fetcher) return;
    const state = running.get(part);
    if (state) {
      state.again = true;
      return;
    }
    const mine = { again: false };
    running.set(part, mine);
    try {
      do {
        mine.again = false;
        try {
          await fetcher();
        } catch {
          // A missed refresh is harmless: the next event, or a reconnect, catches up.
        }
      } while (mine.again);
    } finally {
      running.delete(part);
    }
  }
  ctx.refetch = refetch;

  root.classList.add("app--panel");
  setChildren(
    root,
    header.element,
    ended.element,
    pairSection(ctx),
    h("div", { class: "panel-live" }, notes.element, agenda.element),
    outcomes.element,
    wrapup.element,
    h(
      "div",
      { class: "panel-more" },
      goals.element,
      actions.element,
      h("div", { class: "panel-stack" }, agreement?.element, prompts.element),
      past.element,
    ),
    signedInFooter(person),
  );
  const mounted = mountNotes(notes.editorRoot, ctx);
  mounted.ytext?.observe(() => wrapup.notesChanged());
  meetingChanged(ctx.meeting);
  connectEvents(ctx.meeting.id, {
    onEvent: (type) => refetch(type),
    onResync: () => Object.keys(fetchers).forEach(refetch),
  });
}
