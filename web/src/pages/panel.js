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
import { EditorView } from "@codemirror/view";
import { h, setChildren } from "../lib/dom.js";
import { connectEvents } from "../lib/events.js";
import { everyMinute } from "../lib/clock.js";
import { onProfileChanged } from "../lib/profile-channel.js";
import { browserTimeZone, displayLocale, isValidTimeZone, parseInstant } from "../lib/time.js";
import { erasureBanner } from "../components/erasure-banner.js";
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
import { tabSet } from "../panel/tabs.js";

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
  const sorted = [...meetings]
    .filter((m) => m.id === meeting.id || m.status !== "cancelled")
    .sort((a, b) => String(a.scheduled_start).localeCompare(String(b.scheduled_start)));
  // Not in the list (it failed to load): treat it as an early meeting, prompts do no harm.
  return Math.max(0, sorted.findIndex((m) => m.id === meeting.id));
}

/** Draws the panel into `root`; resolves to {meeting} once drawn (undefined when it could not load). */
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
    // Opened inside the call (a platform's own page says so: Zoom's side panel, Jitsi's call page).
    inCall: settings.inCall === true,
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
  const erasureNotice = erasureBanner(ctx, data.mentorship); // a planned erasure, with Undo
  // The meeting changed (moved, started, ended): every part that depends on its state follows.
  let wasEnded = data.meeting.status === "ended";
  let layoutChanged = () => {};
  let onErased = () => {};
  function meetingChanged(meeting) {
    ctx.meeting = meeting;
    layoutChanged();
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
    // An erasure planned or undone (by either person): the banner follows.
    erasure: async () => erasureNotice.update((await getMentorship(mentorshipId)).erasure ?? null),
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
  const pair = pairSection(ctx);
  // Four tabs, the notes first. On a wide screen the agenda sits beside the tabs instead of in
  // one (CSS hides its tab), so the notes and the agenda are both in view during the call.
  const tabs = tabSet(
    [
      { key: "notes", label: "Notes", children: [notes.element, prompts.element] },
      { key: "agenda", label: "Agenda", children: [agenda.element] },
      {
        key: "steps",
        label: "Next steps",
        children: [outcomes.element, actions.element, goals.element, agreement?.element],
      },
      { key: "wrapup", label: "Wrap-up", children: [ended.element, wrapup.element, past.element] },
    ],
    { label: "Meeting panel", onSelect: (key, byPerson) => byPerson && (chosenInPhase = layout) },
  );
  const body = h("div", { class: "panel-body" }, tabs.tablist, ...tabs.panels.values());
  const erased = h("div", { class: "panel-gone", role: "alert", hidden: true });
  const top = h("div", { class: "panel-top" }, header.element, pair.element);
  setChildren(root, top, erased, erasureNotice.element, body, signedInFooter(person));

  // Which part comes first: the agenda before the call, the notes during it, the summary after.
  let layout = "";
  let chosenInPhase = "";
  const inCall = ctx.inCall;
  function defaultTab() {
    if (layout === "after") return "wrapup";
    if (layout === "before" && tabs.isShown("agenda")) return "agenda";
    return "notes";
  }
  function arrange(now = new Date()) {
    const next = panelLayout(ctx.meeting, now, inCall);
    if (next !== layout) {
      layout = next;
      root.dataset.layout = layout;
      agenda.element.classList.toggle("agenda--compact", layout !== "before");
      if (chosenInPhase !== layout) tabs.select(defaultTab());
    }
    if (tabs.selected() === "agenda" && !tabs.isShown("agenda")) tabs.select("notes");
  }
  layoutChanged = arrange;
  // The wrap-up preview opens by itself 10 minutes before the end: say so on its tab.
  let wrapupShown = false;
  const checkWrapup = () => {
    const content = wrapup.element.querySelector(".wrapup-content");
    const shown = Boolean(content && !content.hidden && !wrapup.element.hidden);
    if (shown !== wrapupShown) {
      wrapupShown = shown;
      tabs.mark("wrapup", shown, "the summary preview is ready");
    }
  };
  new MutationObserver(checkWrapup).observe(wrapup.element, {
    attributes: true,
    attributeFilter: ["hidden"],
    subtree: true,
  });
  checkWrapup(); // it may have opened as it was made
  // The agenda's tab comes and goes with the panel's width (a CSS container query).
  new ResizeObserver(() => arrange()).observe(root);
  everyMinute(arrange);
  onErased = (message) => {
    setChildren(erased, h("p", { class: "panel-gone-title" }, message.title), h("p", {}, message.body));
    erased.hidden = false;
    root.dataset.gone = "true";
  };
  const mounted = mountNotes(notes.editorRoot, ctx);
  mounted.ytext?.observe(() => wrapup.notesChanged());
  // "Add to notes" (prompts): the line goes into the shared text, at the end, on its own line.
  ctx.addToNotes = (line) => {
    const text = mounted.ytext;
    if (!text || !mounted.view?.state.facet(EditorView.editable)) return false;
    const current = text.toString();
    text.insert(current.length, `${current && !current.endsWith("\n") ? "\n" : ""}${line}\n`);
    return true;
  };
  meetingChanged(ctx.meeting);
  const events = connectEvents(ctx.meeting.id, {
    onEvent: (type) => refetch(type),
    onResync: () => Object.keys(fetchers).forEach(refetch),
    onStatus: (status, code) => {
      if (status === "closed" && code === GONE) ctx.onGone();
    },
    // A refused upgrade (an erased mentorship, a revoked session) looks like a network failure
    // from here: after a few in a row, ask the API whether the meeting is still ours.
    onFailing: async () => {
      try {
        await getMeeting(ctx.meeting.id);
      } catch (error) {
        if (error instanceof ApiError && [401, 403, 404].includes(error.status)) {
          events.close();
          if (error.status !== 401) ctx.onGone();
        }
      }
    },
  });
  ctx.onGone = () => {
    onErased(GONE_MESSAGE);
    events.close();
  };
  // Your own card follows a photo or profile change made in another tab, or on the profile page
  // you came back from (the browser may restore this page from its back-forward cache).
  const refreshMe = async () => {
    try {
      pair.updateMe((await getMe()).person);
    } catch {
      // The next visit catches up.
    }
  };
  onProfileChanged(refreshMe);
  window.addEventListener("pageshow", (event) => event.persisted && refreshMe());
  // What the platforms' `panel` scripts are told (web/src/platforms.js): the meeting as loaded.
  return { meeting: data.meeting };
}

const GONE = 4410;
const GONE_MESSAGE = {
  title: "This mentorship has been erased",
  body: "One of you erased it and everything in it, so this panel has stopped connecting. Nothing more can be saved here.",
};

/**
 * "before" the call (the agenda first), "live" (the notes first) or "after" (the summary).
 * `inCall`: the panel is open inside the call (Zoom's side panel, the Jitsi call page), so the
 * person is in the meeting now, whatever the clock says.
 */
function panelLayout(meeting, now, inCall) {
  if (meeting.status === "ended") return "after";
  if (meeting.status === "cancelled") return "before"; // nothing to take notes of: the agenda
  if (meeting.status === "live" || inCall) return "live";
  const start = parseInstant(meeting.scheduled_start);
  // From ten minutes before the start people are joining: the notes come first.
  return start && start - now > 10 * 60000 ? "before" : "live";
}
