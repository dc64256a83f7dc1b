// Performance marks for the benchmarks (bench/run.sh reads them back through WebDriver). A mark
// holds a name and a time, nothing else; they are set once per window, at startup.

/** Marks `name` once the frame that shows the current DOM has been laid out and painted: the
 * animation-frame callback runs just before that frame's rendering, the task it posts right after. */
export function markAfterPaint(name: string): void {
  requestAnimationFrame(() => setTimeout(() => performance.mark(name), 0));
}

export function mark(name: string): void {
  performance.mark(name);
}
