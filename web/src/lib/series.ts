// Bars for a small chart of counts per day: heights scaled to the largest, never NaN.
export interface DayCount {
  date: string;
  count: number;
}

export interface Bar extends DayCount {
  height: number; // 0..1
}

export function bars(days: DayCount[]): Bar[] {
  const top = Math.max(0, ...days.map((d) => d.count));
  return days.map((d) => ({ ...d, height: top === 0 ? 0 : d.count / top }));
}

export function total(days: DayCount[]): number {
  return days.reduce((sum, d) => sum + d.count, 0);
}
