// The SVG picture of a screen: text where its cells are, in their colors, escaped.
import { test, expect } from "bun:test";
import { renderScreen } from "../helpers/screen.ts";
import { screenToSvg } from "../helpers/svg.ts";

test("each styled run becomes a tspan at its cell's x (blanks dropped, a wide character alone), colors from the palette, dim as opacity", async () => {
  const screen = await renderScreen("\x1b[2m12:00\x1b[22m \x1b[36m[gen]\x1b[39m a<b & \x1b[31mred\x1b[39m\r\n漢x", { cols: 30, rows: 4 });
  const svg = screenToSvg(screen);
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
  const rows = svg.split("\n").filter((l) => l.startsWith("<text y="));
  expect(rows).toEqual([
    '<text y="55"><tspan x="14.0" fill="#cccccc" fill-opacity="0.6">12:00</tspan><tspan x="64.4" fill="#11a8cd">[gen]</tspan><tspan x="106.4" fill="#cccccc"> a&lt;b &amp;</tspan><tspan x="165.2" fill="#cd3131">red</tspan></text>',
    '<text y="73"><tspan x="14.0" fill="#cccccc">漢</tspan><tspan x="30.8" fill="#cccccc">x</tspan></text>',
  ]);
  // Two rows tall: title bar 28, padding 2 x 14, rows 2 x 18 (the blank rows below are left out).
  expect(svg).toContain('height="92"');
});
