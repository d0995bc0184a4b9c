// One shared ticker for everything that shows the current time (clocks, countdowns).
// It fires at the start of every minute and again when the tab becomes visible, because
// browsers slow down timers in background tabs.

const listeners = new Set();
let timer = null;

function tick() {
  const now = new Date();
  for (const listener of listeners) listener(now);
  schedule();
}

function schedule() {
  clearTimeout(timer);
  if (listeners.size === 0) {
    timer = null;
    return;
  }
  const now = new Date();
  const delay = 60000 - (now.getSeconds() * 1000 + now.getMilliseconds()) + 20;
  timer = setTimeout(tick, delay);
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && listeners.size) tick();
});

/** Call `listener(now)` right away and then every minute; returns an unsubscribe function. */
export function everyMinute(listener) {
  listeners.add(listener);
  listener(new Date());
  if (timer === null) schedule();
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) schedule();
  };
}
