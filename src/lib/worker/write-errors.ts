// What a failed local write tells the page. The ledger refuses a local append whose seq or prev
// does not extend the stored own head (FeedHeadMismatchError): for a running node that means the
// store changed under it (the browser deleted the site's storage, "Clear site data", or it was
// replaced), never a bug of the caller. Said so in words a user can act on.
import { LedgerError, StoreChangedError } from '../core/errors.js';

export function explainWriteError(err: unknown): unknown {
  if (err instanceof LedgerError && err.code === 'feed-head-mismatch')
    return new StoreChangedError(
      `this device's store changed under the running node (deleted, e.g. by "Clear site data", or replaced): nothing was written; reload the page to start again (${err.message})`
    );
  return err;
}
