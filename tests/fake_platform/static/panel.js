// The fake platform's panel script (tests/fake_platform): an ES module that imports nothing,
// as a real platform's would. The core's panel.js imports it on the meeting panel page and calls
// `panel` once the panel drew itself; it adds a link beside the meeting's status and leaves a
// marker on <body> for the test.

export function panel(root, settings, core) {
  const row = root.querySelector(".status-row");
  row?.append(core.h("a", { class: "fakecall-link", href: "#fakecall" }, "Join on FakeCall"));
  document.body.dataset.fakecallPanel = settings.meetingId;
}
