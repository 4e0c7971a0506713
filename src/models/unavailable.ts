// Why a model answered 404, in words a user can act on: the server's reason (shut down, closed to new users,
// never existed) plus what the registry says to use instead.
// Message shapes: "This model models/X is no longer available…" (https://github.com/google/adk-docs/pull/1840),
// "…is no longer available to new users…" (https://github.com/Pickle-Pixel/ApplyPilot/issues/6),
// "models/X is not found for API version v1beta…" (https://github.com/google-gemini/gemini-cli/issues/24131).
import { bareModelId, findModel, replacementFor } from './lookup.ts';

export type UnavailableReason = 'shut_down' | 'closed_to_new_users' | 'not_found';

export interface Unavailable {
  model: string;
  reason: UnavailableReason;
  /** What to use instead, when the registry knows. */
  replacement?: string;
  /** One sentence for the user. */
  text: string;
}

/** Reads a 404's message (the status alone does not say which of the three it is). */
export function unavailableReason(serverMessage: string): UnavailableReason {
  if (/no longer available to new users/i.test(serverMessage)) return 'closed_to_new_users';
  if (/no longer available/i.test(serverMessage)) return 'shut_down';
  return 'not_found';
}

/** The user-facing account of a 404 for `model`. */
export function explainUnavailable(model: string, serverMessage: string): Unavailable {
  const id = bareModelId(model);
  const info = findModel(id);
  let reason = unavailableReason(serverMessage);
  // A retired id may also come back as "not found": the registry knows better than the generic text.
  if (reason === 'not_found' && info?.status === 'shut_down') reason = 'shut_down';
  const replacement = replacementFor(id)?.id;
  const instead = replacement ? `use ${replacement}` : 'run `imagebatch models` to see the models that exist today';
  let what: string;
  if (reason === 'shut_down') what = `${id} was shut down${info?.shutdown ? ` on ${info.shutdown}` : ''}`;
  else if (reason === 'closed_to_new_users') what = `${id} is no longer available to new users (only to projects that used it before)`;
  else what = `${id} is not a model this key can call (the server says it is not found)`;
  return { model: id, reason, ...(replacement ? { replacement } : {}), text: `${what}; ${instead}` };
}
