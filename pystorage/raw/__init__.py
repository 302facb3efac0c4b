"""Building blocks for service-driver and layer authors.

Applications use :mod:`pystorage`; this package is the driver contract
(:class:`~pystorage.raw.accessor.Accessor`), the option dataclasses, and the
engines written once for every driver (multipart writes, ranged reads).
"""
