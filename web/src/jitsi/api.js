// The call page's two endpoints (sidecar/jitsi/api.py): what to join, and what the call did.

import { request as call } from "../lib/api.js";

const seg = encodeURIComponent;

/** {configured, message, domain, script_url, room_name, jwt, display_name, email, moderator, warning} */
export const getJitsiCall = (meetingId) => call("GET", `/api/v1/meetings/${seg(meetingId)}/jitsi`);

/** Report one iframe event: {event, key?, room_name?, others_in_call} -> {recorded, ended, status}. */
export const reportJitsiEvent = (meetingId, body) =>
  call("POST", `/api/v1/meetings/${seg(meetingId)}/jitsi/events`, body);
