// Waiting for the screen to catch up with the DOM.

/** Runs `f` once the frame showing the current DOM has been laid out and painted: the
 * animation-frame callback runs just before that frame's rendering, the task it posts right after. */
export function afterPaint(f: () => void): void {
  requestAnimationFrame(() => setTimeout(f, 0));
}
