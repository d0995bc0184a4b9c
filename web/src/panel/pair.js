// "The pair": mentor and mentee side by side, each with their current local time (a live
// clock in their own time zone) and the meeting start in their time zone. Marks which one is you.

import { everyMinute } from "../lib/clock.js";
import { h, setText } from "../lib/dom.js";
import {
  describeOffset,
  formatClock,
  formatDayTime,
  localDateTimeAttr,
  offsetMinutes,
  parseInstant,
  partOfDay,
  wallClock,
  zoneCity,
} from "../lib/time.js";
import { photoUrl } from "../lib/api.js";
import { ROLE_LABEL, initials } from "../lib/words.js";

/** The person's photo, or their initials in a coloured circle when they have none. */
export function avatar(person, className = "avatar") {
  const url = photoUrl(person);
  if (url) {
    return h("img", { class: `${className} avatar--photo`, src: url, alt: "", width: 40, height: 40 });
  }
  return h("span", { class: className, "aria-hidden": "true" }, initials(person?.name));
}

function youBadge() {
  return h(
    "span",
    { class: "you-badge" },
    h("span", { class: "visually-hidden" }, "("),
    "You",
    h("span", { class: "visually-hidden" }, ")"),
  );
}

function pendingCard(role) {
  return h(
    "li",
    { class: `person person--${role} person--pending`, dataset: { role } },
    h(
      "div",
      { class: "person-head" },
      h("span", { class: "avatar", "aria-hidden": "true" }, "?"),
      h(
        "div",
        {},
        h("p", { class: "person-name" }, `No ${role} yet`),
        h("p", { class: "person-role" }, ROLE_LABEL[role]),
      ),
    ),
    h("p", { class: "person-zone" }, "The invite has not been accepted yet."),
  );
}

function personCard(ctx, role) {
  const person = ctx.people[role];
  if (!person) return pendingCard(role);
  const { locale, viewerZone, me } = ctx;
  const zone = person.timezone || "UTC";
  const isYou = person.id === me.id;

  const clock = h("time", { class: "clock", dataset: { clock: "" } });
  const dayPart = h("span", { class: "day-part" });
  const offset = h("span", { class: "offset" });
  everyMinute((now) => {
    clock.dateTime = localDateTimeAttr(now, zone);
    setText(clock, formatClock(now, zone, locale));
    setText(dayPart, partOfDay(wallClock(now, zone).hour));
    setText(
      offset,
      isYou ? "your time zone" : describeOffset(offsetMinutes(now, zone), offsetMinutes(now, viewerZone)),
    );
  });

  const start = parseInstant(ctx.meeting.scheduled_start);
  const startEl = start
    ? h(
        "time",
        { datetime: localDateTimeAttr(start, zone), dataset: { meetingStart: "" } },
        formatDayTime(start, zone, locale),
      )
    : h("span", {}, "not scheduled");

  return h(
    "li",
    {
      class: `person person--${role}${isYou ? " person--you" : ""}`,
      dataset: { role, personId: person.id, timezone: zone },
    },
    h(
      "div",
      { class: "person-head" },
      avatar(person),
      h(
        "div",
        { class: "person-id" },
        h("p", { class: "person-name" }, h("span", { class: "name" }, person.name), isYou ? youBadge() : null),
        h("p", { class: "person-role" }, ROLE_LABEL[role]),
      ),
    ),
    h(
      "dl",
      { class: "person-times" },
      h("div", {}, h("dt", {}, "Local time"), h("dd", {}, clock, h("span", { class: "muted" }, " · ", dayPart))),
      h("div", {}, h("dt", {}, "Meeting starts"), h("dd", {}, startEl)),
    ),
    h("p", { class: "person-zone" }, h("span", { title: zone }, zoneCity(zone)), " · ", offset),
    aboutLine(person, isYou),
  );
}

/** What your own card still asks for: a photo, a few lines about you, both or nothing. */
function missingText(person) {
  const photo = Boolean(person.photo_updated_at);
  const about = Boolean(person.about);
  if (photo && about) return null;
  if (photo) return "Add a few lines about you. ";
  if (about) return "Add a photo. ";
  return "Add a photo and a few lines about you. ";
}

function aboutLine(person, isYou) {
  if (isYou) {
    return h(
      "p",
      { class: "person-about person-about--you" },
      missingText(person),
      h("a", { href: "/me" }, person.about ? "Edit your profile" : "Your profile"),
    );
  }
  if (!person.about) return null;
  return h("p", { class: "person-about" }, person.about);
}

export function pairSection(ctx) {
  const element = h(
    "section",
    { class: "pair", "aria-labelledby": "pair-heading" },
    h("h2", { id: "pair-heading", class: "visually-hidden" }, "Who is meeting"),
    h("ul", { class: "pair-list" }, personCard(ctx, "mentor"), personCard(ctx, "mentee")),
  );
  return {
    element,
    /** Your own profile changed (a photo uploaded in another tab): redraw what it shows. */
    updateMe(person) {
      const role = ctx.myRole;
      const card = element.querySelector(`li.person[data-role="${role}"]`);
      if (!card || !person || person.id !== ctx.me.id) return;
      ctx.me = person;
      ctx.people = { ...ctx.people, [role]: { ...ctx.people[role], ...person } };
      const photo = card.querySelector(".person-head > .avatar");
      photo?.replaceWith(avatar(ctx.people[role]));
      card.querySelector(".person-about")?.replaceWith(aboutLine(ctx.people[role], true));
      const name = card.querySelector(".person-name .name");
      if (name) setText(name, person.name);
    },
  };
}
