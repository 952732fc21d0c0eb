/** Status timestamps: second precision, as the API server writes them. */

export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Lists and watches may format the same instant differently; status comparison must not see that. */
export function normalizeTime(t: string | null | undefined): string | null {
  if (!t) return null;
  const n = Date.parse(t);
  return Number.isNaN(n) ? t : rfc3339(new Date(n));
}
