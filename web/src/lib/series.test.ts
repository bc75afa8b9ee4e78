import { describe, expect, it } from "vitest";
import { bars, total } from "./series";

describe("bars", () => {
  it("scales to the largest day", () => {
    const out = bars([
      { date: "2026-12-01", count: 5 },
      { date: "2026-12-02", count: 10 },
      { date: "2026-12-03", count: 0 },
    ]);
    expect(out.map((b) => b.height)).toEqual([0.5, 1, 0]);
    expect(total(out)).toBe(15);
  });

  it("never divides by zero", () => {
    expect(bars([{ date: "2026-12-01", count: 0 }])[0].height).toBe(0);
    expect(bars([])).toEqual([]);
  });
});
