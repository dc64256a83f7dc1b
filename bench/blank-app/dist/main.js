// The same mark Latchkey sets (ui/src/lib/marks.ts): the first frame painted after the page ran.
requestAnimationFrame(() => requestAnimationFrame(() => performance.mark('latchkey:shown')));
