// The enrolment QR code arrives from Rust as an SVG document. It is parsed as XML (DOMParser with
// image/svg+xml: never HTML) and rebuilt element by element from an allow-list of shapes and
// presentation attributes, so nothing in it can run, load or style anything. If it cannot be parsed
// it is shown as an <img> with a data: URL (the CSP allows `img-src data:`; an SVG image runs nothing).

const SVG_NS = 'http://www.w3.org/2000/svg';
const ELEMENTS = new Set(['svg', 'g', 'path', 'rect', 'polygon', 'circle', 'title', 'desc']);
const ATTRIBUTES = new Set([
  'viewBox',
  'width',
  'height',
  'x',
  'y',
  'd',
  'points',
  'cx',
  'cy',
  'r',
  'fill',
  'fill-rule',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'shape-rendering',
  'transform',
  'version',
  'preserveAspectRatio',
]);
const SAFE_VALUE = /^[\w\s.,#%()+-]*$/;

export function renderQr(svgText: string, label: string): Element {
  const built = rebuild(svgText);
  if (built) {
    built.setAttribute('role', 'img');
    built.setAttribute('aria-label', label);
    built.setAttribute('class', 'qr-svg');
    built.setAttribute('focusable', 'false');
    return built;
  }
  const img = document.createElement('img');
  img.className = 'qr-img';
  img.alt = label;
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgText)}`;
  return img;
}

function rebuild(svgText: string): SVGSVGElement | null {
  let root: Element | null;
  try {
    const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
    root = doc.documentElement;
    if (!root || doc.getElementsByTagName('parsererror').length > 0) return null;
  } catch {
    return null;
  }
  if (localName(root) !== 'svg') return null;
  const svg = copy(root) as SVGSVGElement | null;
  if (!svg || svg.childNodes.length === 0) return null;
  if (!svg.getAttribute('viewBox')) {
    const w = parseFloat(root.getAttribute('width') ?? '');
    const h = parseFloat(root.getAttribute('height') ?? '');
    if (w > 0 && h > 0) svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  }
  // The stylesheet sizes it.
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  return svg;
}

function localName(el: Element): string {
  return (el.localName || el.nodeName).replace(/^.*:/, '');
}

function copy(src: Element): Element | null {
  const name = localName(src);
  if (!ELEMENTS.has(name)) return null;
  const el = document.createElementNS(SVG_NS, name);
  for (const attr of Array.from(src.attributes)) {
    const a = attr.localName || attr.name;
    if (ATTRIBUTES.has(a) && SAFE_VALUE.test(attr.value) && !/url\(/i.test(attr.value)) el.setAttribute(a, attr.value);
  }
  for (const child of Array.from(src.childNodes)) {
    if (child.nodeType === 1) {
      const c = copy(child as Element);
      if (c) el.appendChild(c);
    } else if (child.nodeType === 3 && (name === 'title' || name === 'desc')) {
      el.appendChild(document.createTextNode(child.textContent ?? ''));
    }
  }
  return el;
}
