// Whether this meeting has a Jitsi call (jitsi_app/api.py), for the panel's "Open the video call"
// link. The call page itself is Jitsi's own script (jitsi_app/static/call.js).

import { request as call } from "../lib/api.js";

const seg = encodeURIComponent;

/** {configured, message, domain, script_url, room_name, jwt, display_name, email, moderator, warning} */
export const getJitsiCall = (meetingId) => call("GET", `/api/v1/meetings/${seg(meetingId)}/jitsi`);
