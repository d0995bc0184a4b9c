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
