// "Open the video call" in the panel's header, when this service embeds Jitsi and the meeting is
// not a Zoom one. Hidden until the service says a call is set up (and on the call page itself).

import { h } from "../lib/dom.js";
import { getJitsiCall } from "./api.js";

export function callLink(ctx, settings) {
  const link = h(
    "a",
    { class: "join-link call-link", href: `/meetings/${encodeURIComponent(ctx.meeting.id)}/call`, hidden: true },
    "Open the video call",
  );
  if (settings.page === "jitsi" || ctx.meeting.platform === "zoom") return link;
  getJitsiCall(ctx.meeting.id)
    .then((info) => {
      link.hidden = !info?.configured;
    })
    .catch(() => {
      // No link then: the panel works without the call.
    });
  return link;
}
