// How a next step's due date reads: "3 Dec", "3 Dec 2027" (the year only when it is not this
// year's), and "overdue since 3 Dec" once the day has passed. The summary email words them the
// same way (sidecar/summary/due_dates.py).

const cache = new Map();

function format(locale, withYear) {
  const key = `${locale}|${withYear}`;
  if (!cache.has(key)) {
    const options = { timeZone: "UTC", day: "numeric", month: "short", ...(withYear ? { year: "numeric" } : {}) };
    let fmt;
    try {
      fmt = new Intl.DateTimeFormat(locale || undefined, options);
    } catch {
      fmt = new Intl.DateTimeFormat("en", options);
    }
    cache.set(key, fmt);
  }
  return cache.get(key);
}

/** "3 Dec", or "3 Dec 2027" when `isoDate` ("YYYY-MM-DD") is not in the year of `todayIso`. */
export function shortDueDate(isoDate, todayIso, locale) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate ?? "");
  if (!m) return isoDate ?? "";
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 12));
  return format(locale, m[1] !== String(todayIso ?? "").slice(0, 4)).format(date).replace(",", "");
}

/** A due date before today (both "YYYY-MM-DD", today in the viewer's time zone). */
export function isOverdue(isoDate, todayIso) {
  return Boolean(isoDate) && isoDate < todayIso;
}

/** Was the service's 422 about a due date already past (it asks for confirm_past_due)? */
export function isPastDueRefusal(error) {
  return (
    error?.status === 422 &&
    (error.fields ?? []).some((f) => f.loc === "due_date" && /confirm_past_due/.test(f.msg ?? ""))
  );
}
