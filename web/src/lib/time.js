// Time formatting: everything that turns an instant into words for one person's time zone.
// Words are English; dates and clock times follow the viewer's locale (PersonOut.locale).

import { canonicalZone, zoneOptions } from "./zones.js";

const formatterCache = new Map();

/** Intl.DateTimeFormat that never throws: a bad locale or time zone falls back to defaults. */
function formatter(locale, options) {
  const key = `${locale}|${JSON.stringify(options)}`;
  let fmt = formatterCache.get(key);
  if (!fmt) {
    try {
      fmt = new Intl.DateTimeFormat(locale || undefined, options);
    } catch {
      const { timeZone, ...rest } = options;
      try {
        fmt = new Intl.DateTimeFormat(undefined, { ...rest, timeZone });
      } catch {
        fmt = new Intl.DateTimeFormat(undefined, rest);
      }
    }
    formatterCache.set(key, fmt);
  }
  return fmt;
}

/** The viewer's IANA time zone as the browser knows it. */
export function browserTimeZone() {
  try {
    return canonicalZone(Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC");
  } catch {
    return "UTC";
  }
}

/** The viewer's preferred locale as the browser knows it. */
export function browserLocale() {
  return (typeof navigator !== "undefined" && navigator.language) || "en";
}

/**
 * The locale tag used to write dates and times. The panel's words are English, so dates are
 * written in English too, following the conventions of the person's region and clock:
 * "pt-PT" gives "en-PT-u-hc-h23" ("Tue, 24 Nov, 14:05"), "en-US" gives "Tue, Nov 24, 2:05 PM".
 */
export function displayLocale(locale) {
  try {
    const source = new Intl.Locale(locale || browserLocale());
    const region = source.region ?? source.maximize().region;
    const { hourCycle } = new Intl.DateTimeFormat(source.toString(), { hour: "numeric" }).resolvedOptions();
    const base = region ? `en-${region}` : "en";
    return hourCycle ? `${base}-u-hc-${hourCycle}` : base;
  } catch {
    return "en";
  }
}

function hourStyle(locale) {
  const { hourCycle } = formatter(locale, { hour: "numeric" }).resolvedOptions();
  return hourCycle === "h23" || hourCycle === "h24" ? "2-digit" : "numeric";
}

/** Is `timeZone` a zone this browser can format? */
export function isValidTimeZone(timeZone) {
  try {
    new Intl.DateTimeFormat("en", { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** All IANA zones the browser knows under their current names, with `mustInclude` added. */
export function timeZoneChoices(mustInclude) {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = [];
  }
  const set = new Set(zones.map(canonicalZone));
  for (const zone of [mustInclude, "UTC"]) if (zone) set.add(canonicalZone(zone));
  return [...set].sort();
}

/** Options for a time zone <select>: current names, and old names that pick them. */
export function timeZoneOptions(mustInclude) {
  return zoneOptions(timeZoneChoices(mustInclude));
}

/** Parse an ISO 8601 timestamp from the API; null when absent or unparseable. */
export function parseInstant(iso) {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** Wall-clock parts of `date` in `timeZone` (numbers; hour 0-23). */
export function wallClock(date, timeZone) {
  const parts = formatter("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(date);
  const get = (type) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return {
    year: get("year"),
    month: get("month"),
    day: get("day"),
    hour: get("hour") % 24,
    minute: get("minute"),
    second: get("second"),
  };
}

const pad = (n) => String(n).padStart(2, "0");

/** "2025-06-03T14:05": the local date and time in `timeZone`, for <time datetime>. */
export function localDateTimeAttr(date, timeZone) {
  const w = wallClock(date, timeZone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}`;
}

/** "2025-06-03": the local date in `timeZone`. */
export function localDateAttr(date, timeZone) {
  const w = wallClock(date, timeZone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}`;
}

/** UTC offset of `timeZone` at `date`, in minutes (east of UTC is positive). */
export function offsetMinutes(date, timeZone) {
  const w = wallClock(date, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
}

/** "14:05" or "2:05 PM", as the locale writes clock times (24-hour clocks get two digits). */
export function formatClock(date, timeZone, locale) {
  return formatter(locale, { timeZone, hour: hourStyle(locale), minute: "2-digit" }).format(date);
}

/** "Tue 3 Jun, 14:00" in the locale's order; with the year when it is not this year's. */
export function formatDayTime(date, timeZone, locale) {
  const year = (d) => formatter(locale, { timeZone, year: "numeric" }).format(d);
  return formatter(locale, {
    timeZone,
    weekday: "short",
    day: "numeric",
    month: "short",
    ...(year(date) === year(new Date()) ? {} : { year: "numeric" }),
    hour: hourStyle(locale),
    minute: "2-digit",
  }).format(date);
}

/** "Tuesday, 3 June 2025". */
export function formatLongDate(date, timeZone, locale) {
  return formatter(locale, {
    timeZone,
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
  }).format(date);
}

/** "3 Jun" for a calendar date "YYYY-MM-DD" (no time zone shift); "3 Jun 2025" when it is not
 * this year's. */
export function formatCalendarDate(isoDate, locale) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate ?? "");
  if (!m) return isoDate ?? "";
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 12));
  const withYear = Number(m[1]) !== new Date().getFullYear() ? { year: "numeric" } : {};
  return formatter(locale, { timeZone: "UTC", day: "numeric", month: "short", ...withYear })
    .format(date)
    .replace(",", "");
}

/** "Sao Paulo" from "America/Sao_Paulo"; "UTC" stays "UTC". */
export function zoneCity(timeZone) {
  if (!timeZone) return "";
  const last = timeZone.split("/").pop() ?? timeZone;
  return last.replace(/_/g, " ");
}

/** A gentle word for the hour: it helps to know it is late evening for the other person. */
export function partOfDay(hour) {
  if (hour < 5) return "night";
  if (hour < 8) return "early morning";
  if (hour < 12) return "morning";
  if (hour < 17) return "afternoon";
  if (hour < 21) return "evening";
  return "late evening";
}

/** "3 h ahead of you", "5 h 30 min behind you", "same time as you". */
export function describeOffset(theirMinutes, yourMinutes) {
  const diff = theirMinutes - yourMinutes;
  if (diff === 0) return "same time as you";
  const abs = Math.abs(diff);
  const hours = Math.floor(abs / 60);
  const minutes = abs % 60;
  const amount = [hours ? `${hours} h` : "", minutes ? `${minutes} min` : ""]
    .filter(Boolean)
    .join(" ");
  return `${amount} ${diff > 0 ? "ahead of" : "behind"} you`;
}

/** "5 min", "2 h 5 min", "3 days" for a positive duration in milliseconds. */
export function humanDuration(ms) {
  const totalMinutes = Math.max(0, Math.round(ms / 60000));
  if (totalMinutes < 1) return "less than a minute";
  if (totalMinutes < 60) return `${totalMinutes} min`;
  const totalHours = Math.floor(totalMinutes / 60);
  if (totalHours < 24) {
    const minutes = totalMinutes % 60;
    return minutes ? `${totalHours} h ${minutes} min` : `${totalHours} h`;
  }
  const days = Math.floor(totalHours / 24);
  const hours = totalHours % 24;
  if (days < 3 && hours) return `${days} ${days === 1 ? "day" : "days"} ${hours} h`;
  return `${days} ${days === 1 ? "day" : "days"}`;
}

/** The instant at wall-clock time "YYYY-MM-DDTHH:MM" in `timeZone` (null when malformed). */
export function zonedWallToDate(wall, timeZone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(wall ?? "");
  if (!m) return null;
  const asUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  // The offset at the guessed instant, then again at the corrected one (DST edges).
  let date = new Date(asUtc - offsetMinutes(new Date(asUtc), timeZone) * 60000);
  date = new Date(asUtc - offsetMinutes(date, timeZone) * 60000);
  return date;
}

/** "14:05" in 24-hour form in `timeZone`, for <input type=time>. */
export function localTimeAttr(date, timeZone) {
  const w = wallClock(date, timeZone);
  return `${pad(w.hour)}:${pad(w.minute)}`;
}

/** Calendar days from `a` to `b` as the wall clock in `timeZone` counts them (0 = same day). */
function calendarDaysBetween(a, b, timeZone) {
  const day = (d) => {
    const w = wallClock(d, timeZone);
    return Date.UTC(w.year, w.month - 1, w.day) / 86400000;
  };
  return day(b) - day(a);
}

/**
 * When a meeting starts, as words that cannot be mistaken for a clock time: "starts in 22 min",
 * "starts in 2 h 5 min" (within 6 hours), "starts today at 19:00", "starts tomorrow at 14:00",
 * "starts Thu at 14:00" (within a week), "starts Thu 4 Dec at 14:00". Minutes round up, so it
 * says "starts in 1 min" until the start. Lower case: callers capitalise at a sentence's start.
 */
export function startsIn(start, now, timeZone, locale) {
  const left = start.getTime() - now.getTime();
  if (left <= 0) return "starts now";
  const minutes = Math.ceil(left / 60000);
  if (minutes < 60) return `starts in ${minutes} min`;
  if (minutes < 6 * 60) {
    const rest = minutes % 60;
    return `starts in ${Math.floor(minutes / 60)} h${rest ? ` ${rest} min` : ""}`;
  }
  const at = formatClock(start, timeZone, locale);
  const days = calendarDaysBetween(now, start, timeZone);
  if (days === 0) return `starts today at ${at}`;
  if (days === 1) return `starts tomorrow at ${at}`;
  const weekday = formatter(locale, { timeZone, weekday: "short" }).format(start);
  if (days < 7) return `starts ${weekday} at ${at}`;
  const date = formatter(locale, { timeZone, weekday: "short", day: "numeric", month: "short" })
    .format(start)
    .replace(",", "");
  return `starts ${date} at ${at}`;
}
