"""`/metrics` as a test reads it: the text format parsed by prometheus_client's own
parser, samples looked up by name and labels."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


@dataclass(frozen=True)
class Scrape:
    text: str
    samples: tuple[Sample, ...]

    @classmethod
    def of(cls, text: str) -> Scrape:
        samples = tuple(
            sample for family in text_string_to_metric_families(text) for sample in family.samples
        )
        return cls(text, samples)

    def value(self, name: str, **labels: str) -> float | None:
        """The sample with exactly these labels, or None when there is none."""
        found = [s.value for s in self.samples if s.name == name and s.labels == labels]
        assert len(found) <= 1, found
        return found[0] if found else None

    def total(self, name: str, **labels: str) -> float:
        """The sum of the samples of `name` whose labels include these."""
        return sum(
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )

    def labels(self, name: str | None = None) -> Iterator[Mapping[str, str]]:
        for sample in self.samples:
            if name is None or sample.name == name:
                yield sample.labels

    def names(self) -> set[str]:
        """Every name a query can use: each sample's, and for a family without
        samples yet (a labelled series never recorded) the names its TYPE line
        promises."""
        names = {sample.name for sample in self.samples}
        for line in self.text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split()
                suffixes = ("_bucket", "_sum", "_count") if kind == "histogram" else ("",)
                names.update(name + suffix for suffix in suffixes)
        return names


async def scrape(client: httpx.AsyncClient) -> Scrape:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Scrape.of(response.text)
