"""Raw client-side encryption throughput: pystorage's Tink streaming AEAD code
against ``tink``'s own, on the same data, in MiB/s per CPU core (process CPU
time, so that a busy machine does not distort the figure).

``python -m benchmarks crypto [--size MIB]``; ``make bench`` prints it after the tables.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable

__all__ = ["crypto_lines"]

MiB = 1024 * 1024


def _per_core(func: Callable[[], object], size: int) -> float:
    func()  # warm up (imports, allocator)
    start = time.process_time()
    func()
    return size / MiB / max(time.process_time() - start, 1e-9)


def crypto_lines(size_mib: int = 64) -> list[str]:
    """One line per segment size: encrypt and decrypt MiB/s per core, ours and tink's."""
    try:
        from pystorage.crypto.streaming import SEGMENT_SIZE_1MB, SEGMENT_SIZE_4KB, Layout, decrypt, encrypt
    except ImportError:
        return ["crypto: the 'crypto' extra (cryptography) is not installed"]
    try:
        import tink
        from tink import cleartext_keyset_handle, streaming_aead

        streaming_aead.register()
    except ImportError:
        tink = None
    data = os.urandom(size_mib * MiB)
    key = os.urandom(32)
    lines = [f"client-side encryption, {size_mib} MiB in memory, MiB/s per core (encrypt / decrypt)"]
    for label, segment in (
        ("AES256_GCM_HKDF_1MB", SEGMENT_SIZE_1MB),
        ("AES256_GCM_HKDF_4KB", SEGMENT_SIZE_4KB),
    ):
        lay = Layout(segment)
        ciphertext = encrypt(key, data, layout=lay)
        ours = (
            _per_core(lambda: encrypt(key, data, layout=lay), len(data)),  # noqa: B023
            _per_core(lambda: decrypt([key], ciphertext, layout=lay), len(data)),  # noqa: B023
        )
        line = f"  {label}: pystorage {ours[0]:,.0f} / {ours[1]:,.0f}"
        if tink is not None:
            from pystorage.crypto import Keyset

            text = Keyset.from_keys({"1": key}, primary="1").to_tink_json(segment_size=segment)
            primitive = cleartext_keyset_handle.read(tink.JsonKeysetReader(text)).primitive(
                streaming_aead.StreamingAead
            )

            class _Keep(io.BytesIO):
                def close(self) -> None:  # tink closes its destination
                    pass

            def tink_encrypt() -> None:
                with primitive.new_encrypting_stream(_Keep(), b"") as stream:  # noqa: B023
                    stream.write(data)

            def tink_decrypt() -> None:
                with primitive.new_decrypting_stream(io.BytesIO(ciphertext), b"") as stream:  # noqa: B023
                    while stream.read(8 * MiB):
                        pass

            theirs = (_per_core(tink_encrypt, len(data)), _per_core(tink_decrypt, len(data)))
            line += f"   tink {theirs[0]:,.0f} / {theirs[1]:,.0f}"
        lines.append(line)
    return lines
