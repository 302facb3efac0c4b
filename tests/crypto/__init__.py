"""Tests of pystorage.crypto: the streaming AEAD format, keysets, Tink interop."""
