// The meeting's notes kept in this browser (IndexedDB, through y-indexeddb), so what is typed
// while the service is unreachable survives a closed tab or a crashed browser and goes out when
// the panel opens again. One database per meeting, named by its mentorship and meeting, so
// erasing a mentorship or signing out can remove exactly what it must.
//
// Removed by forgetLocalNotes(): on sign-out (lib/api.js signOut), when a mentorship is erased
// (the profile page, a notes socket closed with 4410, a panel whose meeting is gone).

import { IndexeddbPersistence } from "y-indexeddb";
import { forgetLocalNotes, localNotesName, openHere, readRegistry, writeRegistry } from "./forget.js";

export { LOCAL_PREFIX, forgetLocalNotes, localNotesName } from "./forget.js";

// A browser that never answers the open (a stuck upgrade elsewhere) must not keep the notes
// from connecting: after this long the panel goes on without a local copy.
const OPEN_TIMEOUT_MS = 3000;

/**
 * Keep `doc` in this browser: loads what an earlier visit left (before the caller connects) and
 * stores every change from then on. `ready` resolves true once loaded, false when this browser
 * keeps nothing (no IndexedDB, private mode refusing it, or no answer in time).
 *
 * @param {import("yjs").Doc} doc
 * @param {{mentorshipId: string, meetingId: string}} where
 */
export function keepNotesLocally(doc, { mentorshipId, meetingId }) {
  const name = localNotesName(mentorshipId, meetingId);
  let persistence = null;
  let kept = false;
  const entry = {
    name,
    /** True while changes are being written to this browser. */
    isKeeping: () => kept,
    ready: Promise.resolve(false),
    /** Stop writing (the database stays). */
    close() {
      if (!persistence) return Promise.resolve();
      kept = false;
      openHere.delete(entry);
      const closing = persistence.destroy();
      persistence = null;
      return closing.catch(() => {});
    },
    /** Stop writing and delete this meeting's local copy. */
    forget: () => forgetLocalNotes({ mentorshipId, meetingId }),
  };
  if (typeof globalThis.indexedDB === "undefined") return entry;

  try {
    persistence = new IndexeddbPersistence(name, doc);
  } catch {
    return entry;
  }
  openHere.add(entry);
  const registry = readRegistry();
  if (!registry.includes(name)) writeRegistry([...registry, name]);

  // Another tab signing out or erasing deletes this database: lib0 closes the connection on
  // `versionchange`; stop writing to it too, or every keystroke would throw on a closed database.
  // (`_db` is y-indexeddb's promise of the open IDBDatabase.)
  const opened = persistence._db.then(
    (db) => {
      db.addEventListener("versionchange", () => entry.close());
      return true;
    },
    () => false,
  );
  let timer = 0;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve(false), OPEN_TIMEOUT_MS);
  });
  const loaded = persistence.whenSynced.then(() => true);
  entry.ready = Promise.race([opened.then((ok) => (ok ? loaded : false)), timedOut]).then(
    (ok) => {
      clearTimeout(timer);
      kept = ok && persistence !== null;
      if (!kept) entry.close();
      return kept;
    },
  );
  return entry;
}
