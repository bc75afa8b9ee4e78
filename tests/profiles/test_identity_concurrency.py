"""Two workers resolving the same identifiers at once still give one profile per person."""

from __future__ import annotations

import random
import threading

from sqlalchemy import func, select

from tests.conftest import make_account
from tidings.profiles.identity import ProfileInput, Source, resolve_batch
from tidings.profiles.tables import Profile


def test_concurrent_batches_with_overlapping_identifiers(db) -> None:
    account = make_account(db)
    people = [(f"c{i}@example.com", f"+1617555{2000 + i:04d}") for i in range(60)]
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(4):
                chosen = rng.sample(people, 40)
                inputs = []
                for email, phone in chosen:
                    kind = rng.randrange(3)
                    inputs.append(
                        ProfileInput(email=email)
                        if kind == 0
                        else ProfileInput(phone_number=phone)
                        if kind == 1
                        else ProfileInput(email=email, phone_number=phone)
                    )
                with db.write() as session:
                    resolve_batch(session, account.id, inputs, source=Source.EVENT)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    # Link every person once more, then each person is exactly one profile.
    with db.write() as session:
        resolve_batch(
            session,
            account.id,
            [ProfileInput(email=e, phone_number=p) for e, p in people],
            source=Source.EVENT,
        )
    with db.read() as session:
        count = session.execute(
            select(func.count()).select_from(Profile).where(Profile.account_id == account.id)
        ).scalar()
        emails = session.execute(
            select(func.count(Profile.email.distinct())).where(Profile.account_id == account.id)
        ).scalar()
    assert count == len(people) and emails == len(people)
