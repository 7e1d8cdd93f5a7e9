// A headless terminal's screen (test/helpers/screen.ts) as a self-contained SVG picture: text in
// a monospace font on a dark window, colors and dim/bold as the terminal shows them. For the
// README's picture of the live view; it fetches nothing and embeds no font.
import type { Color, Screen } from "./screen.ts";

/** The 16 ANSI colors, as VS Code's dark terminal theme draws them. */
const ANSI = [
  "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
  "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#e5e5e5",
];
const FOREGROUND = "#cccccc";
const BACKGROUND = "#1e1e1e";
const CELL_WIDTH = 8.4;
const ROW_HEIGHT = 18;
const PAD = 14;
const TITLE_BAR = 28;

/** What the picture shows. */
export interface SvgOptions {
  /** The window's title. */
  title?: string;
  /** Rows to draw (default: the visible rows up to the last non-blank one). */
  rows?: number;
}

function colorOf(color: Color): string {
  if (color === "default") return FOREGROUND;
  if ("rgb" in color) return color.rgb;
  if (color.palette < 16) return ANSI[color.palette]!;
  // The 6x6x6 cube and the gray ramp of the 256-color palette.
  if (color.palette >= 232) {
    const v = (8 + (color.palette - 232) * 10).toString(16).padStart(2, "0");
    return `#${v}${v}${v}`;
  }
  const i = color.palette - 16;
  const level = (n: number) => (n === 0 ? 0 : 55 + n * 40).toString(16).padStart(2, "0");
  return `#${level(Math.floor(i / 36))}${level(Math.floor(i / 6) % 6)}${level(i % 6)}`;
}

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** One run of cells drawn with one style, from column `x` to before column `end`. */
interface Run {
  x: number;
  end: number;
  text: string;
  style: string;
  /** A wide character, drawn alone at its cell: a font's CJK glyphs are rarely two cells wide. */
  wide: boolean;
}

/** The runs of one row: neighbouring cells of one style together, blank runs left out. */
function rowRuns(screen: Screen, y: number, cols: number): Run[] {
  const runs: Run[] = [];
  for (let x = 0; x < cols; x++) {
    const cell = screen.cell(x, y);
    if (cell.char === "") continue; // the second half of a wide character
    const attrs = [`fill="${colorOf(cell.fg)}"`];
    if (cell.dim) attrs.push(`fill-opacity="0.6"`);
    if (cell.bold) attrs.push(`font-weight="bold"`);
    const style = attrs.join(" ");
    const wide = x + 1 < cols && screen.cell(x + 1, y).char === "";
    const last = runs.at(-1);
    if (!wide && last !== undefined && !last.wide && last.style === style && last.end === x) {
      last.text += cell.char;
      last.end = x + 1;
    } else {
      runs.push({ x, end: x + (wide ? 2 : 1), text: cell.char, style, wide });
    }
  }
  // Blank cells at a run's end draw nothing: positions are absolute, so they can go.
  return runs.map((r) => ({ ...r, text: r.text.trimEnd() })).filter((r) => r.text !== "");
}

/** The visible screen as an SVG document. */
export function screenToSvg(screen: Screen, options: SvgOptions = {}): string {
  const cols = screen.terminal.cols;
  const rows = options.rows ?? Math.max(1, screen.lines().length);
  const width = Math.ceil(PAD * 2 + cols * CELL_WIDTH);
  const height = Math.ceil(TITLE_BAR + PAD * 2 + rows * ROW_HEIGHT);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" rx="8" fill="${BACKGROUND}"/>`,
    ...["#ff5f56", "#ffbd2e", "#27c93f"].map((c, i) => `<circle cx="${PAD + 6 + i * 20}" cy="${TITLE_BAR / 2 + 2}" r="6" fill="${c}"/>`),
  ];
  if (options.title) out.push(`<text x="${width / 2}" y="${TITLE_BAR / 2 + 6}" text-anchor="middle" font-family="sans-serif" font-size="13" fill="#999999">${escapeXml(options.title)}</text>`);
  out.push(`<g font-family="ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace" font-size="14" xml:space="preserve">`);
  for (let y = 0; y < rows; y++) {
    const baseline = TITLE_BAR + PAD + y * ROW_HEIGHT + 13;
    const runs = rowRuns(screen, y, cols);
    if (runs.length === 0) continue;
    const spans = runs.map((r) => `<tspan x="${(PAD + r.x * CELL_WIDTH).toFixed(1)}" ${r.style}>${escapeXml(r.text)}</tspan>`);
    out.push(`<text y="${baseline}">${spans.join("")}</text>`);
  }
  out.push("</g>", "</svg>", "");
  return out.join("\n");
}
