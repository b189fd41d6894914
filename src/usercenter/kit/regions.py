"""What a module needs to read GB/T 2260 regions without depending on `platform`, which holds
the data (`platform.service.Regions`, wired by `app.build_services`): the resolved shape and
the protocol of the directory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name}


@dataclass(frozen=True, slots=True)
class ResolvedRegion:
    """A county-level code with the province and city it lies in. For a prefecture-level
    city without counties (东莞, 中山, 儋州, 嘉峪关) the city is also the district."""

    province: Region
    city: Region
    district: Region

    @property
    def code(self) -> str:
        return self.district.code

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {
            "province": self.province.as_dict(),
            "city": self.city.as_dict(),
            "district": self.district.as_dict(),
        }


class RegionDirectory(Protocol):
    """The validator every region code the API accepts goes through."""

    def resolve(self, code: str, *, field: str = "region_code") -> ResolvedRegion:
        """A county-level code with its city and province; raises a 422 `region_invalid`
        naming `field` for anything else."""
        ...

    def find(self, code: str | None) -> ResolvedRegion | None:
        """A stored code resolved, None when unknown."""
        ...
