/**
 * ISO 8601 with milliseconds and the local UTC offset in `+hh:mm` form (never `Z`), as the
 * infoFile contract asks: `2026-11-22T04:28:10.123+00:00`.
 */
export function formatItemTime(date: Date): string {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('Cannot format an invalid Date.');
  const offsetMinutes = -date.getTimezoneOffset();
  const local = new Date(ms + offsetMinutes * 60_000);
  const year = local.getUTCFullYear();
  if (year < 0 || year > 9999)
    throw new RangeError(`Year ${year} does not fit ISO 8601 basic form.`);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return (
    `${pad(year, 4)}-${pad(local.getUTCMonth() + 1, 2)}-${pad(local.getUTCDate(), 2)}` +
    `T${pad(local.getUTCHours(), 2)}:${pad(local.getUTCMinutes(), 2)}:${pad(local.getUTCSeconds(), 2)}` +
    `.${pad(local.getUTCMilliseconds(), 3)}${sign}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`
  );
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
