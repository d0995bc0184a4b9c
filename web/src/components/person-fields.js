// The "about you" fields shared by the start form (home) and the invite form:
// name, email, time zone and language/region, all under the "me." prefix the API expects.

import { h } from "../lib/dom.js";
import { field } from "../lib/forms.js";
import { browserLocale, browserTimeZone, timeZoneOptions } from "../lib/time.js";

export function personFields() {
  const zone = browserTimeZone();
  return h(
    "div",
    { class: "field-grid" },
    field({
      name: "me.name",
      label: "Your name",
      required: true,
      autocomplete: "name",
      maxlength: 120,
    }),
    field({
      name: "me.email",
      label: "Email",
      type: "email",
      required: true,
      autocomplete: "email",
      hint: "Only for your sign-in link and meeting summaries.",
    }),
    field({
      name: "me.timezone",
      label: "Time zone",
      required: true,
      value: zone,
      options: timeZoneOptions(zone),
      hint: "So your partner sees your local time.",
    }),
    field({
      name: "me.locale",
      label: "Language and region",
      required: true,
      value: browserLocale(),
      autocomplete: "language",
      maxlength: 35,
      hint: "How dates and times are written for you, e.g. en-GB or pt-BR.",
    }),
  );
}
