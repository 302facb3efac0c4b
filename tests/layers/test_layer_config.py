"""Layer configs: validated at construction, frozen, exported under a sorted __all__."""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any

import pytest

import pystorage.layers
from pystorage import errors
from pystorage.layers import ChaosLayer, ConcurrentLimitLayer, LoggingLayer, RetryLayer, TimeoutLayer
from pystorage.raw.layer import Layer, LayeredAccessor
from pystorage.services import memory


def test_all_is_sorted_and_complete() -> None:
    names = pystorage.layers.__all__
    assert names == sorted(names)
    assert set(names) >= {"ChaosLayer", "ConcurrentLimitLayer", "LoggingLayer", "RetryLayer", "TimeoutLayer"}
    for name in names:
        assert issubclass(getattr(pystorage.layers, name), Layer)


def test_defaults() -> None:
    assert RetryLayer() == RetryLayer(max_times=3, min_delay=1.0, max_delay=60.0, factor=2.0, jitter=True)
    assert TimeoutLayer() == TimeoutLayer(timeout=60.0, io_timeout=10.0)
    assert TimeoutLayer() == TimeoutLayer(complete_timeout=300.0, min_throughput=1024 * 1024)
    assert LoggingLayer() == LoggingLayer(logger="pystorage", level=logging.DEBUG)
    assert ChaosLayer(0.1).seed is None


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: RetryLayer(max_times=-1), "max_times"),
        (lambda: RetryLayer(max_times=1.5), "max_times"),  # type: ignore[arg-type]
        (lambda: RetryLayer(max_times=True), "max_times"),
        (lambda: RetryLayer(min_delay=-0.1), "min_delay"),
        (lambda: RetryLayer(min_delay=math.nan), "min_delay"),
        (lambda: RetryLayer(min_delay=2.0, max_delay=1.0), "max_delay"),
        (lambda: RetryLayer(factor=0.5), "factor"),
        (lambda: RetryLayer(jitter="yes"), "jitter"),  # type: ignore[arg-type]
        (lambda: TimeoutLayer(timeout=0), "timeout"),
        (lambda: TimeoutLayer(timeout=-1.0), "timeout"),
        (lambda: TimeoutLayer(io_timeout=0.0), "io_timeout"),
        (lambda: TimeoutLayer(io_timeout="10"), "io_timeout"),  # type: ignore[arg-type]
        (lambda: TimeoutLayer(complete_timeout=0), "complete_timeout"),
        (lambda: TimeoutLayer(min_throughput=0), "min_throughput"),
        (lambda: TimeoutLayer(min_throughput=-1.0), "min_throughput"),
        (lambda: TimeoutLayer(min_throughput=math.nan), "min_throughput"),
        (lambda: LoggingLayer(logger=42), "logger"),  # type: ignore[arg-type]
        (lambda: LoggingLayer(level=0), "level"),
        (lambda: LoggingLayer(level="DEBUG"), "level"),  # type: ignore[arg-type]
        (lambda: ConcurrentLimitLayer(0), "limit"),
        (lambda: ConcurrentLimitLayer(-3), "limit"),
        (lambda: ConcurrentLimitLayer(2.5), "limit"),  # type: ignore[arg-type]
        (lambda: ChaosLayer(-0.1), "error_ratio"),
        (lambda: ChaosLayer(1.5), "error_ratio"),
        (lambda: ChaosLayer(math.nan), "error_ratio"),
        (lambda: ChaosLayer(0.5, seed="x"), "seed"),  # type: ignore[arg-type]
    ],
)
def test_invalid_config_names_the_field(factory: Any, field: str) -> None:
    with pytest.raises(errors.ConfigInvalid, match=field):
        factory()


@pytest.mark.parametrize(
    "layer",
    [RetryLayer(), TimeoutLayer(), LoggingLayer(), ConcurrentLimitLayer(4), ChaosLayer(0.2, seed=1)],
    ids=lambda layer: type(layer).__name__,
)
def test_layers_are_frozen_and_wrap_an_accessor(layer: Layer) -> None:
    first_field = dataclasses.fields(layer)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(layer, first_field, 1)
    inner = memory.build({})
    wrapped = layer.layer(inner)
    assert isinstance(wrapped, LayeredAccessor)
    assert wrapped.inner is inner
    assert wrapped.info() == inner.info()
    assert type(wrapped).__name__.startswith("_")
