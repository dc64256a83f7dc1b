// Performance marks for the benchmarks (bench/run.sh reads them back through WebDriver). A mark
// holds a name and a time, nothing else; they are set once per window, at startup.
import { afterPaint } from './paint';

/** Marks `name` once the frame that shows the current DOM has been laid out and painted. */
export function markAfterPaint(name: string): void {
  afterPaint(() => performance.mark(name));
}

export function mark(name: string): void {
  performance.mark(name);
}
