import { BloodcellError } from '@bloodcell/core';

/**
 * The `{ code, message }` shown for a failure in the page, matching the server's error shape.
 *
 * @example
 * outcomes.push({ file: file.name, error: publicErrorOf(error) });
 */
export function publicErrorOf(error: unknown): { code: string; message: string } {
  if (error instanceof BloodcellError) return { code: error.code, message: error.message };
  const detail = error instanceof Error ? error.message : String(error);
  return { code: 'BROWSER_FAILURE', message: `The browser could not classify this image: ${detail}` };
}
