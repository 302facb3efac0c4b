"""The reader against a model: seeded random ``read`` / ``readinto`` / ``seek`` / ``tell``.

On every service, an ``open("rb")`` reader (stream mode, and chunked modes
whose chunk sizes put boundaries everywhere) is driven through a seeded
random sequence of calls, each answered by ``io.BytesIO`` over the same
bytes too; every result must be the same. A failing seed is in the test id.
"""

from __future__ import annotations

import io
import random

import pytest

from pystorage import Operator

from .helpers import payload

pytestmark = pytest.mark.anyio

SIZE = 50_000
DATA = payload(SIZE, seed=77)
STEPS = 60

#: (chunk, concurrent, prefetch): stream mode, then chunks of awkward sizes
MODES = [(None, 1, 0), (1000, 1, 0), (4096 + 7, 3, 2), (SIZE - 1, 2, 1)]


@pytest.mark.parametrize(("chunk", "concurrent", "prefetch"), MODES, ids=["stream", "c1000", "c4103", "cbig"])
@pytest.mark.parametrize("seed", [1, 2])
async def test_reader_matches_the_model(
    op: Operator, seed: int, chunk: int | None, concurrent: int, prefetch: int
) -> None:
    await op.write("model.bin", DATA)
    rng = random.Random(seed * 1000 + (chunk or 0))
    model = io.BytesIO(DATA)
    log: list[str] = []
    options = {} if chunk is None else {"chunk": chunk, "concurrent": concurrent, "prefetch": prefetch}
    async with op.open("model.bin", "rb", **options) as reader:
        for _ in range(STEPS):
            action = rng.choice(["read", "read", "readinto", "seek0", "seek1", "seek2", "tell", "readall"])
            if action == "read":
                n = rng.choice([0, 1, rng.randrange(1, 200), rng.randrange(1, 20_000)])
                log.append(f"read({n})")
                assert await reader.read(n) == model.read(n), log
            elif action == "readall":
                log.append("read()")
                assert await reader.read() == model.read(), log
            elif action == "readinto":
                buf = bytearray(rng.randrange(1, 9000))
                want = bytearray(len(buf))
                log.append(f"readinto({len(buf)})")
                assert await reader.readinto(buf) == model.readinto(want), log
                assert buf == want, log
            elif action == "seek0":
                target = rng.randrange(0, SIZE + 100)
                log.append(f"seek({target})")
                assert await reader.seek(target) == model.seek(target), log
            elif action == "seek1":
                delta = rng.randrange(-min(model.tell(), 5000), 5000)
                log.append(f"seek({delta}, 1)")
                assert await reader.seek(delta, 1) == model.seek(delta, 1), log
            elif action == "seek2":
                delta = -rng.randrange(0, SIZE)
                log.append(f"seek({delta}, 2)")
                assert await reader.seek(delta, 2) == model.seek(delta, 2), log
            else:
                log.append("tell()")
                assert await reader.tell() == model.tell(), log
