// Entry point. The stylesheet is linked from index.html (a file, never a <style> tag, for the CSP).
import { mountApp } from './app';

const root = document.getElementById('app');
if (root) mountApp(root);
