"""Client-side encryption: keys (:class:`Keyset`) and Tink's streaming AEAD
format (:mod:`pystorage.crypto.streaming`), used by
:class:`~pystorage.layers.EncryptionLayer`.

Needs the ``crypto`` extra (``pip install "pystorage[crypto]"``, which brings
``cryptography``)::

    from pystorage.crypto import Keyset
    from pystorage.layers import EncryptionLayer

    keyset = Keyset.from_keys({"1": key32}, primary="1")
    op = Operator("s3", bucket="b").layer(EncryptionLayer(keyset))
"""

from __future__ import annotations

from ._keyset import Keyset

__all__ = ["Keyset"]
