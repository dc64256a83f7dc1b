// Entry point. The stylesheet is linked from index.html (a file, never a <style> tag, for the CSP).
import { mountApp } from './app';
import { osOf } from './lib/os';

// Before the first layout: the stylesheet picks its font stack by platform (see styles.css).
document.documentElement.dataset.os = osOf(navigator.userAgent);

const root = document.getElementById('app');
if (root) mountApp(root);
