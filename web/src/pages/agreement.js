// The mentoring agreement (body[data-page=agreement], body[data-mentorship-id]): seven fields the
// pair fill in together (PATCH), who confirmed the current wording and when (POST .../confirm;
// any change asks both again), the meeting schedule (a tapering series, each meeting in your
// time zone with the other person's time alongside, moving one meeting) and the private
// calendar link. Live events from the pair's meeting socket keep it current.

import { calendarFeed } from "../components/calendar-feed.js";
import { notice, retryButton, signedInFooter, topBar } from "../components/layout.js";
import {
  ApiError,
  confirmAgreement,
  createSchedule,
  getAgreement,
  getMe,
  getMentorship,
  listMeetings,
  updateAgreement,
  updateMeeting,
} from "../lib/api.js";
import { h, liveRegion, setChildren, setText, uid } from "../lib/dom.js";
import { connectEvents } from "../lib/events.js";
import { clearErrors, field, showErrors, whileSubmitting } from "../lib/forms.js";
import {
  browserTimeZone,
  displayLocale,
  formatClock,
  formatDayTime,
  isValidTimeZone,
  localDateAttr,
  localDateTimeAttr,
  localTimeAttr,
  parseInstant,
  timeZoneOptions,
  zoneCity,
  zonedWallToDate,
} from "../lib/time.js";
import { AGREEMENT_FIELDS, MEETING_STATUS_LABEL, ROLE_LABEL, firstName, otherRole } from "../lib/words.js";

const MAX_PHASES = 4;

function signedInProblem(error) {
  if (error instanceof ApiError && error.status === 401) {
    return notice({ title: "You are signed out", body: "Open your personal link again to see your agreement." });
  }
  if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
    return notice({ title: "This agreement is not available", body: "It belongs to a mentorship you are not part of." });
  }
  return notice({ title: "The agreement could not load", body: error.message, action: retryButton(), tone: "error" });
}

/** Which agreement versions this browser saw you confirm, to say "changed since you confirmed". */
const confirmedKey = (mentorshipId, personId) => `sidecar:agreement-confirmed:${mentorshipId}:${personId}`;
function rememberConfirmed(mentorshipId, personId, version) {
  try {
    localStorage.setItem(confirmedKey(mentorshipId, personId), String(version));
  } catch {
    // Private mode: the reminder is a nicety.
  }
}
function lastConfirmed(mentorshipId, personId) {
  try {
    return Number(localStorage.getItem(confirmedKey(mentorshipId, personId))) || 0;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------- confirmation

function confirmationCard(ctx, state) {
  const summary = h("p", { class: "confirm-summary" });
  const again = h("p", { class: "confirm-again", role: "status" });
  const list = h("ul", { class: "confirm-list" });
  const problem = h("p", { class: "inline-error", role: "alert", hidden: true });
  const button = h("button", { type: "button", class: "button button--primary confirm-button" }, "I confirm this agreement");
  const announcer = liveRegion();

  button.addEventListener("click", async () => {
    button.disabled = true;
    problem.hidden = true;
    try {
      const agreement = await confirmAgreement(ctx.mentorship.id);
      rememberConfirmed(ctx.mentorship.id, ctx.me.id, agreement.version);
      state.set(agreement);
      setText(announcer, "You confirmed the agreement.");
    } catch (error) {
      problem.textContent = `Not confirmed. ${error.message}`;
      problem.hidden = false;
    } finally {
      button.disabled = false;
    }
  });

  function draw(agreement) {
    const confirmedAt = new Map((agreement.confirmations ?? []).map((c) => [c.person_id, c.confirmed_at]));
    const mine = confirmedAt.has(ctx.me.id);
    if (mine) rememberConfirmed(ctx.mentorship.id, ctx.me.id, agreement.version);
    const changedSince = !mine && lastConfirmed(ctx.mentorship.id, ctx.me.id) > 0 &&
      lastConfirmed(ctx.mentorship.id, ctx.me.id) < agreement.version;
    setChildren(
      list,
      ["mentor", "mentee"].map((role) => {
        const person = ctx.people[role];
        if (!person) return h("li", { class: "confirm-person muted" }, `No ${role} yet`);
        const at = parseInstant(confirmedAt.get(person.id));
        const name = person.id === ctx.me.id ? "You" : person.name;
        return h(
          "li",
          { class: `confirm-person${at ? " is-confirmed" : ""}`, dataset: { personId: person.id, role } },
          h("span", { class: "confirm-mark", "aria-hidden": "true" }, at ? "✓" : "…"),
          h(
            "span",
            {},
            h("strong", {}, name),
            h("span", { class: "muted" }, ` (${ROLE_LABEL[role].toLowerCase()}) `),
            at
              ? h("span", {}, "confirmed ", h("time", { datetime: confirmedAt.get(person.id) }, formatDayTime(at, ctx.viewerZone, ctx.locale)))
              : h("span", {}, "has not confirmed this version yet"),
          ),
        );
      }),
    );
    if (agreement.revisit_due) {
      setText(summary, "You have met a few times since you both confirmed it. Read it together again: does it still fit?");
    } else if (agreement.confirmed_by_both) {
      setText(summary, "You have both confirmed this agreement.");
    } else {
      setText(summary, "Read it through together, then each of you confirms it. Any later change asks both of you to confirm again.");
    }
    const editor = Object.values(ctx.people).find((p) => p?.id === agreement.updated_by);
    const when = parseInstant(agreement.updated_at);
    const by = editor ? (editor.id === ctx.me.id ? "you" : firstName(editor)) : "someone";
    setText(
      again,
      changedSince
        ? by === "you"
          ? "You changed it after confirming. Read it once more and confirm again."
          : `Changed since you confirmed: ${by} edited it${when ? ` on ${formatDayTime(when, ctx.viewerZone, ctx.locale)}` : ""}. Please read it and confirm again.`
        : "",
    );
    again.hidden = !changedSince;
    button.hidden = mine;
    setText(button, changedSince ? "Confirm again" : "I confirm this agreement");
    element.dataset.state = agreement.confirmed_by_both ? "confirmed" : mine ? "waiting-other" : "waiting-me";
  }

  const element = h(
    "section",
    { id: "agreement-confirm", class: "card confirm-card", "aria-labelledby": "confirm-heading" },
    h("h2", { id: "confirm-heading" }, "Confirmation"),
    summary,
    again,
    list,
    problem,
    h("div", { class: "form-actions" }, button),
    announcer,
  );
  return { element, draw };
}

// ---------------------------------------------------------------- the seven fields

function agreementForm(ctx, state) {
  let saved = state.get();
  const status = h("p", { class: "save-status", role: "status" });
  const fields = AGREEMENT_FIELDS.map((f) =>
    field({
      name: f.key,
      label: f.label,
      type: "textarea",
      hint: f.hint,
      value: saved[f.key] ?? "",
      markOptional: false,
      limit: 8000, // LongText in sidecar/api/schemas.py
    }),
  );
  for (const wrapper of fields) {
    const area = wrapper.querySelector("textarea");
    area.rows = 3;
    area.addEventListener("input", () => setText(status, "Unsaved changes"));
  }
  const form = h(
    "form",
    { id: "agreement-form", class: "card agreement-form", novalidate: true, "aria-labelledby": "agreement-heading" },
    h("h2", { id: "agreement-heading" }, "What you agree"),
    h(
      "p",
      { class: "section-intro" },
      "Fill this in together, ideally in your first meeting. Short is fine: it is a shared starting point, and you can change it whenever it no longer fits.",
    ),
    ...fields,
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "submit", class: "button button--primary" }, "Save the agreement"),
      status,
    ),
  );
  const control = (key) => form.querySelector(`[name="${key}"]`);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const changes = {};
    for (const f of AGREEMENT_FIELDS) {
      const value = control(f.key).value;
      if (value !== (saved[f.key] ?? "")) changes[f.key] = value;
    }
    if (Object.keys(changes).length === 0) {
      setText(status, "Nothing changed.");
      return;
    }
    try {
      const agreement = await whileSubmitting(form, () => updateAgreement(ctx.mentorship.id, changes));
      saved = agreement;
      state.set(agreement);
      setText(status, "Saved. A change asks both of you to confirm again.");
    } catch (error) {
      setText(status, "");
      showErrors(form, error);
    }
  });

  return {
    element: form,
    /** A newer agreement: refresh the fields nobody is editing here. */
    draw(agreement) {
      const previous = saved;
      saved = agreement;
      for (const f of AGREEMENT_FIELDS) {
        const area = control(f.key);
        const untouched = area.value === (previous[f.key] ?? "");
        if (untouched && document.activeElement !== area) area.value = agreement[f.key] ?? "";
      }
    },
  };
}

// ---------------------------------------------------------------- schedule

function phaseRow(index, phase, onRemove) {
  const every = field({ name: `phases.${index}.every_weeks`, label: "Every … weeks", type: "number", value: String(phase.every_weeks) });
  const count = field({ name: `phases.${index}.count`, label: "Meetings", type: "number", value: String(phase.count) });
  for (const [wrapper, min, max] of [[every, 1, 8], [count, 1, 26]]) {
    const input = wrapper.querySelector("input");
    input.min = String(min);
    input.max = String(max);
    input.inputMode = "numeric";
  }
  return h(
    "li",
    { class: "phase", dataset: { phase: String(index) } },
    h("span", { class: "phase-label" }, index === 0 ? "First" : "Then"),
    every,
    count,
    index > 0
      ? h("button", { type: "button", class: "icon-button icon-button--remove", "aria-label": `Remove step ${index + 1}`, title: "Remove", onclick: onRemove }, h("span", { "aria-hidden": "true" }, "×"))
      : h("span", { class: "phase-spacer" }),
  );
}

function scheduleForm(ctx, onCreated) {
  let phases = [
    { every_weeks: 1, count: 6 },
    { every_weeks: 2, count: 6 },
  ];
  const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
  const dateId = uid("first-date");
  const timeId = uid("first-time");
  const firstStart = h(
    "fieldset",
    { class: "field first-start", dataset: { field: "first_start" } },
    h("legend", {}, "First meeting"),
    h(
      "div",
      { class: "inline-fields" },
      h("label", { for: dateId, class: "visually-hidden" }, "Date of the first meeting"),
      h("input", { id: dateId, type: "date", name: "first_date", value: localDateAttr(tomorrow, ctx.viewerZone), required: true }),
      h("label", { for: timeId, class: "visually-hidden" }, "Time of the first meeting"),
      h("input", { id: timeId, type: "time", name: "first_time", value: "14:00", required: true }),
    ),
    h("p", { class: "field-error", hidden: true }),
  );
  const zone = field({
    name: "timezone",
    label: "In the time zone",
    value: ctx.viewerZone,
    options: timeZoneOptions(ctx.viewerZone),
  });
  const duration = field({ name: "duration_minutes", label: "Length (minutes)", type: "number", value: "45" });
  const durationInput = duration.querySelector("input");
  durationInput.min = "10";
  durationInput.max = "240";
  durationInput.step = "5";
  const phaseList = h("ol", { class: "phase-list", "aria-label": "How often you meet" });
  const phaseError = h("div", { class: "field", dataset: { field: "phases" } }, h("p", { class: "field-error", hidden: true }));
  const preview = h("p", { class: "schedule-preview hint", "aria-live": "polite" });
  const addPhase = h(
    "button",
    {
      type: "button",
      class: "button button--tiny",
      onclick: () => {
        readPhases();
        const last = phases[phases.length - 1];
        phases = [...phases, { every_weeks: Math.min(8, (last?.every_weeks ?? 1) * 2), count: 3 }];
        drawPhases();
        phaseList.lastElementChild?.querySelector("input")?.focus();
      },
    },
    "+ Add a step",
  );

  function readPhases() {
    phases = [...phaseList.children].map((li) => ({
      every_weeks: Number(li.querySelector("input[name$='every_weeks']").value),
      count: Number(li.querySelector("input[name$='count']").value),
    }));
  }
  function describe() {
    const total = phases.reduce((n, p) => n + (Number.isFinite(p.count) ? p.count : 0), 0);
    const parts = phases.map((p) =>
      `${p.every_weeks === 1 ? "weekly" : `every ${p.every_weeks} weeks`} for ${p.count} ${p.count === 1 ? "meeting" : "meetings"}`,
    );
    setText(preview, `${total} meetings: ${parts.join(", then ")}.`);
  }
  function drawPhases() {
    setChildren(
      phaseList,
      phases.map((p, i) =>
        phaseRow(i, p, () => {
          readPhases();
          phases = phases.filter((_, j) => j !== i);
          drawPhases();
          addPhase.focus();
        }),
      ),
    );
    addPhase.hidden = phases.length >= MAX_PHASES;
    describe();
  }
  drawPhases();
  phaseList.addEventListener("input", () => {
    readPhases();
    describe();
  });

  const form = h(
    "form",
    { id: "schedule-form", class: "schedule-form", novalidate: true, "aria-label": "Plan your meetings" },
    h("p", { class: "section-intro" }, "Meeting more often at the start builds trust; later, every two weeks keeps the thread. Change the steps if another rhythm suits you better."),
    h("div", { class: "field-grid" }, firstStart, zone),
    duration,
    h("div", { class: "phases" }, h("p", { class: "phases-title" }, "How often"), phaseList, phaseError, addPhase, preview),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "button button--primary" }, "Create the meetings")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    readPhases();
    const date = form.querySelector("[name=first_date]").value;
    const time = form.querySelector("[name=first_time]").value;
    if (!date || !time) {
      showErrors(form, { message: "", fields: [{ loc: "first_start", msg: "Choose the date and time of the first meeting." }] });
      return;
    }
    const body = {
      first_start: `${date}T${time}`,
      timezone: form.querySelector("[name=timezone]").value,
      duration_minutes: Number(durationInput.value),
      phases,
    };
    try {
      const created = await whileSubmitting(form, () => createSchedule(ctx.mentorship.id, body));
      onCreated(created.meetings ?? [], created.replaced ?? []);
    } catch (error) {
      showErrors(form, error);
    }
  });
  return form;
}

function meetingRow(ctx, meeting, onMoved) {
  const other = ctx.people[otherRole(ctx.myRole)];
  const start = parseInstant(meeting.scheduled_start);
  const end = parseInstant(meeting.scheduled_end);
  const length = start && end ? end - start : 45 * 60000;
  const otherZone = other?.timezone;
  const moveId = uid("move");
  const input = h("input", { id: moveId, type: "datetime-local", name: "scheduled_start", required: true });
  if (start) input.value = localDateTimeAttr(start, ctx.viewerZone);
  const moveForm = h(
    "form",
    { class: "move-form", novalidate: true, hidden: true, "aria-label": `Move the meeting of ${start ? formatDayTime(start, ctx.viewerZone, ctx.locale) : ""}` },
    h(
      "div",
      { class: "field", dataset: { field: "scheduled_start" } },
      h("label", { for: moveId }, `New start (your time, ${zoneCity(ctx.viewerZone)})`),
      input,
      h("p", { class: "field-error", hidden: true }),
    ),
    h(
      "div",
      { class: "form-actions" },
      h("button", { type: "submit", class: "button button--primary button--quiet" }, "Move"),
      h("button", { type: "button", class: "button button--quiet", onclick: () => { moveForm.hidden = true; toggle.hidden = false; toggle.focus(); } }, "Cancel"),
    ),
  );
  moveForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(moveForm);
    const when = zonedWallToDate(input.value, ctx.viewerZone);
    if (!when) {
      showErrors(moveForm, { message: "", fields: [{ loc: "scheduled_start", msg: "Choose a date and a time." }] });
      return;
    }
    try {
      const moved = await whileSubmitting(moveForm, () =>
        updateMeeting(meeting.id, {
          scheduled_start: when.toISOString(),
          scheduled_end: new Date(when.getTime() + length).toISOString(),
        }),
      );
      onMoved(moved);
    } catch (error) {
      showErrors(moveForm, error);
    }
  });
  const toggle = h(
    "button",
    {
      type: "button",
      class: "button button--tiny move-button",
      "aria-label": start ? `Move the meeting of ${formatDayTime(start, ctx.viewerZone, ctx.locale)}` : "Move",
      onclick: () => {
        moveForm.hidden = false;
        toggle.hidden = true;
        input.focus();
      },
    },
    "Move",
  );
  const past = meeting.status === "ended" || (end && end < new Date());
  return h(
    "li",
    { class: `meeting-row${past ? " is-past" : ""}`, dataset: { meetingId: meeting.id } },
    h(
      "div",
      { class: "meeting-times" },
      start
        ? h(
            "a",
            { href: `/meetings/${encodeURIComponent(meeting.id)}`, class: "meeting-mine" },
            h("time", { datetime: localDateTimeAttr(start, ctx.viewerZone), dataset: { local: "me" } }, formatDayTime(start, ctx.viewerZone, ctx.locale)),
          )
        : h("span", {}, "Not scheduled"),
      start && other && otherZone
        ? h(
            "span",
            { class: "meeting-other muted" },
            `${firstName(other)}: `,
            h("time", { datetime: localDateTimeAttr(start, otherZone), dataset: { local: "other" } }, formatOtherTime(start, ctx.viewerZone, otherZone, ctx.locale)),
          )
        : null,
    ),
    meeting.status !== "scheduled" ? h("span", { class: `pill pill--${meeting.status}` }, MEETING_STATUS_LABEL[meeting.status] ?? meeting.status) : null,
    past ? null : toggle,
    moveForm,
  );
}

/** The other person's time; the day only when it differs from yours ("Wed 02:30"). */
function formatOtherTime(date, myZone, otherZone, locale) {
  if (localDateAttr(date, myZone) === localDateAttr(date, otherZone)) return formatClock(date, otherZone, locale);
  return formatDayTime(date, otherZone, locale);
}

function scheduleSection(ctx, initialMeetings) {
  let meetings = initialMeetings;
  const list = h("ol", { class: "meeting-list", "aria-label": "Your meetings" });
  const empty = h("p", { class: "empty-prompt" }, "No meetings planned yet.");
  const announcer = liveRegion();
  const details = h("details", { class: "schedule-details" }, h("summary", {}, "Plan a series of meetings"));
  const form = scheduleForm(ctx, (created, replaced) => {
    const changed = [...created, ...replaced]; // replaced: the old plan's upcoming ones, cancelled
    meetings = [...meetings.filter((m) => !changed.some((c) => c.id === m.id)), ...changed];
    draw();
    details.open = false;
    const instead = replaced.length ? ` They replace the ${replaced.length} upcoming meetings planned before.` : "";
    setText(announcer, `${created.length} meetings planned.${instead}`);
    list.focus();
  });
  details.append(form);
  list.tabIndex = -1;

  function draw() {
    const sorted = meetings
      .filter((m) => m.status !== "cancelled")
      .sort((a, b) => String(a.scheduled_start).localeCompare(String(b.scheduled_start)));
    setChildren(
      list,
      sorted.map((m) =>
        meetingRow(ctx, m, (moved) => {
          meetings = meetings.map((x) => (x.id === moved.id ? moved : x));
          draw();
          setText(announcer, "Meeting moved. Calendars that subscribe to your link will follow.");
        }),
      ),
    );
    list.hidden = sorted.length === 0;
    empty.hidden = sorted.length > 0;
    details.open = details.open || sorted.length === 0;
  }
  draw();
  const other = ctx.people[otherRole(ctx.myRole)];
  return {
    element: h(
      "section",
      { id: "schedule", class: "card", "aria-labelledby": "schedule-heading" },
      h("h2", { id: "schedule-heading" }, "Your meetings"),
      h(
        "p",
        { class: "section-intro" },
        `Times are yours (${zoneCity(ctx.viewerZone)})`,
        other ? `, with ${firstName(other)}’s time (${zoneCity(other.timezone)}) alongside.` : ".",
      ),
      empty,
      list,
      details,
      announcer,
    ),
    update(next) {
      meetings = next;
      draw();
    },
  };
}

// ---------------------------------------------------------------- page

export async function renderAgreement(root, settings) {
  root.classList.add("app--narrow");
  let me;
  let mentorship;
  let agreement;
  let meetings;
  try {
    [me, mentorship, agreement, meetings] = await Promise.all([
      getMe(),
      getMentorship(settings.mentorshipId),
      getAgreement(settings.mentorshipId),
      listMeetings(settings.mentorshipId),
    ]);
  } catch (error) {
    setChildren(root, topBar(), signedInProblem(error));
    return;
  }
  const person = me.person;
  const ctx = {
    me: person,
    mentorship,
    people: { mentor: mentorship.mentor, mentee: mentorship.mentee },
    myRole: mentorship.my_role,
    locale: displayLocale(person.locale),
    viewerZone: isValidTimeZone(person.timezone) ? person.timezone : browserTimeZone(),
  };
  document.title = `Agreement · ${mentorship.title} · Mentor Sidecar`;

  let current = agreement;
  const views = [];
  const state = {
    get: () => current,
    set(next) {
      current = next;
      for (const view of views) view.draw(next);
    },
  };
  const confirm = confirmationCard(ctx, state);
  const form = agreementForm(ctx, state);
  views.push(confirm, form);
  const schedule = scheduleSection(ctx, meetings.meetings ?? []);
  confirm.draw(current);

  const other = ctx.people[otherRole(ctx.myRole)];
  const upcoming = (meetings.meetings ?? []).find(
    (m) => (m.status === "scheduled" || m.status === "live") && parseInstant(m.scheduled_end) > new Date(),
  );
  setChildren(
    root,
    topBar(h("a", { href: "/me", class: "topbar-link" }, "Your profile")),
    h(
      "header",
      { class: "page-header" },
      h("p", { class: "eyebrow" }, mentorship.title),
      h("h1", {}, "Your mentoring agreement"),
      h(
        "p",
        { class: "lead" },
        other
          ? `What you and ${other.name} expect from each other, how you meet and how you keep in touch.`
          : "What you and your partner expect from each other, how you meet and how you keep in touch.",
      ),
      upcoming ? h("p", {}, h("a", { href: `/meetings/${encodeURIComponent(upcoming.id)}` }, "Open the next meeting’s panel")) : null,
    ),
    confirm.element,
    form.element,
    schedule.element,
    h(
      "section",
      { id: "calendar", class: "card", "aria-labelledby": "calendar-heading" },
      h("h2", { id: "calendar-heading" }, "Add to my calendar"),
      calendarFeed(),
    ),
    signedInFooter(person),
  );

  // Live: the mentorship's own events socket, which works before there is any meeting and is
  // no one's presence in a meeting.
  const refresh = async (part) => {
    try {
      if (part === "agreement") state.set(await getAgreement(mentorship.id));
      if (part === "meeting") schedule.update((await listMeetings(mentorship.id)).meetings ?? []);
    } catch {
      // The next event or a reload catches up.
    }
  };
  const gone = h("div", { class: "panel-gone", role: "alert", hidden: true });
  root.prepend(gone);
  const showGone = () => {
    setChildren(
      gone,
      h("p", { class: "panel-gone-title" }, "This mentorship has been erased"),
      h("p", {}, "One of you erased it and everything in it, so this page has stopped updating."),
    );
    gone.hidden = false;
  };
  const events = connectEvents(
    { mentorshipId: mentorship.id },
    {
      onEvent: (type) => refresh(type),
      onResync: () => {
        refresh("agreement");
        refresh("meeting");
      },
      onStatus: (status, code) => {
        if (status === "closed" && code === 4410) showGone();
      },
      onFailing: async () => {
        try {
          await getAgreement(mentorship.id);
        } catch (error) {
          if (error instanceof ApiError && [401, 403, 404].includes(error.status)) {
            events.close();
            if (error.status !== 401) showGone();
          }
        }
      },
    },
  );
}
