// The Zoom App's calls to the service: the /api/v1 endpoints of zoom_app/api.py and the
// in-client OAuth routes (/zoom/oauth/in-client/*), all answering the contract's error body.
// `request` is the core's API client (core.request), so errors are the core's ApiError.

const seg = encodeURIComponent;

export function zoomApi(request) {
  return {
    zoomMeetingContext: (body) => request("POST", "/api/v1/zoom/meeting-context", body),
    linkZoomMeeting: (mentorshipId, body) =>
      request("PUT", `/api/v1/mentorships/${seg(mentorshipId)}/zoom-meeting`, body),
    zoomMeetingEnded: (meetingId) => request("POST", `/api/v1/meetings/${seg(meetingId)}/zoom-ended`),
    getMyZoom: () => request("GET", "/api/v1/me/zoom"),
    disconnectZoom: () => request("DELETE", "/api/v1/me/zoom"),
    createLinkCode: () => request("POST", "/api/v1/me/zoom/link-code"),
    startInClientOAuth: () => request("POST", "/zoom/oauth/in-client/start"),
    finishInClientOAuth: (body) => request("POST", "/zoom/oauth/in-client/finish", body),
  };
}
