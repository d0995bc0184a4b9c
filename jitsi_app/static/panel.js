// "Open the video call" in the meeting panel's header (a platform script: sidecar/platforms/
// hookspecs.py, FrontEnd; served by the core at /static/platforms/jitsi/panel.js on the panel
// page). Hidden until the service says this meeting has a call; not on the call page itself,
// nor for a Zoom meeting. It imports nothing: the core hands it `core` (web/README.md).

export function panel(root, { page, meeting }, core) {
  const row = root.querySelector(".panel-top .status-row");
  if (!row || page === "jitsi" || meeting.platform === "zoom") return;
  const id = encodeURIComponent(meeting.id);
  const link = core.h(
    "a",
    { class: "join-link call-link", href: `/meetings/${id}/call`, hidden: true },
    "Open the video call",
  );
  row.append(link);
  core
    .request("GET", `/api/v1/meetings/${id}/jitsi`)
    .then((info) => {
      link.hidden = !info?.configured;
    })
    .catch(() => {
      // No link then: the panel works without the call.
    });
}
