// The product's words for the API's enums: section headings, roles, statuses.
// The agenda order follows a good mentoring meeting: look back at what was agreed, celebrate,
// name what got in the way, check the goals, talk, and plan the next stretch.

export const AGENDA_SECTIONS = [
  {
    key: "review",
    heading: "Review of last time's next steps",
    short: "Review of last time",
    prompt: "What did you agree last time? Tick what got done.",
  },
  {
    key: "successes",
    heading: "Successes",
    short: "Successes",
    prompt: "What went well since you last met?",
  },
  {
    key: "challenges",
    heading: "Challenges",
    short: "Challenges",
    prompt: "What got in the way, or felt hard?",
  },
  {
    key: "goal_progress",
    heading: "Progress on goals",
    short: "Goal progress",
    prompt: "Where does each goal stand?",
  },
  {
    key: "topics",
    heading: "Topics to discuss",
    short: "Topics to discuss",
    prompt: "Questions, ideas, anything else to talk through.",
  },
  {
    key: "next_period",
    heading: "Plan for the next period",
    short: "Plan for the next period",
    prompt: "What will you each work on until you meet again?",
  },
];

export const SECTION_BY_KEY = new Map(AGENDA_SECTIONS.map((s) => [s.key, s]));

export const ROLE_LABEL = { mentor: "Mentor", mentee: "Mentee" };
export const otherRole = (role) => (role === "mentor" ? "mentee" : "mentor");

export const GOAL_STATUS_LABEL = { active: "Active", achieved: "Achieved", dropped: "Dropped" };
export const PROGRESS_STATUS_LABEL = {
  on_track: "On track",
  at_risk: "At risk",
  blocked: "Blocked",
  done: "Done",
};

/** "AM" from "Ana Martins"; one letter for one word; "?" for nothing. */
export function initials(name) {
  const words = String(name ?? "")
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  if (words.length === 0) return "?";
  const first = Array.from(words[0])[0] ?? "";
  const last = words.length > 1 ? (Array.from(words[words.length - 1])[0] ?? "") : "";
  return (first + last).toUpperCase();
}

/** The mentoring agreement's fields in the order a pair talks them through, with a nudge each. */
export const AGREEMENT_FIELDS = [
  {
    key: "meeting_cadence",
    label: "When you meet",
    hint: "A regular day, time and length that you both keep, e.g. Tuesdays 14:00 in Lisbon, 18:30 in Bengaluru, 45 minutes. Meeting more often at the start helps trust grow.",
  },
  {
    key: "communication_channels",
    label: "How you keep in touch between meetings",
    hint: "Video when you can: seeing each other carries what words alone lose. Then email, chat or phone for the rest?",
  },
  {
    key: "communication_frequency",
    label: "How often, and how quickly",
    hint: "When the agenda goes out, how soon you answer messages. Far apart, it is better to say a little too much than too little.",
  },
  {
    key: "confidentiality",
    label: "Confidentiality",
    hint: "What stays between the two of you, and what either of you may share, with whom.",
  },
  {
    key: "feedback_and_encouragement",
    label: "Feedback and encouragement",
    hint: "How each of you likes to give and receive feedback (direct or gentle, in the call or in writing), what encouragement works for you, and how you hold each other to what you agree.",
  },
  {
    key: "objectives",
    label: "What this mentorship is for",
    hint: "The objectives: what should be different in six months, and how you would notice.",
  },
  {
    key: "cultural_differences",
    label: "Cultural differences worth talking about",
    hint: "Norms about hierarchy, disagreeing, time and directness. Name them early, and agree how to say when something lands the wrong way.",
  },
];

export const MEETING_STATUS_LABEL = { scheduled: "Scheduled", live: "Live", ended: "Ended", cancelled: "Cancelled" };

/** "Ana" from "Ana Martins". */
export function firstName(person) {
  return String(person?.name ?? "").trim().split(/\s+/)[0] || "";
}
