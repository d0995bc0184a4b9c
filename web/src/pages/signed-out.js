// The signed-out page: the panel only opens from a personal link.

import { notice } from "../components/layout.js";
import { setChildren } from "../lib/dom.js";

export function renderSignedOut(root) {
  root.classList.add("app--narrow");
  setChildren(
    root,
    notice({
      title: "This panel opens from your personal link",
      body: [
        "Mentor Sidecar has no passwords. When you start a mentorship or accept an invite, you get a personal link; opening it signs you in on this device and brings you to your meeting.",
        "Each link works once. If yours has been used or has expired, ask for a new one from your mentoring partner or whoever runs Mentor Sidecar for you.",
      ],
    }),
  );
}
