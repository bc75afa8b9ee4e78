"""Bulk profile import: Klaviyo's `profile-bulk-import-jobs` and `tidings import profiles FILE.csv`.

Both take the same path: each profile is checked by `service.check_profile` (a bad one is an
import error, the others go on) and applied by `service.apply_profiles` through the one
identity resolution (`tidings.profiles.identity.resolve_batch`, source IMPORT) and, for a list,
the lists domain's `join_profiles`.

The API accepts fast and processes durably: `bulk_import_profiles` checks the document's shape,
stores the job and every profile as sent (`profile_import_items`), enqueues `profiles.import`
and answers 202. Each run of that job applies the next chunk of items in one transaction
(deleting them, recording errors and the profiles it touched, updating the counts) and enqueues
the next run, so a job survives restarts and applies each profile once.
"""
