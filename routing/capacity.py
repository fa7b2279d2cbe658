"""How many conversations an agent holds and may hold: plain values, no database."""

from dataclasses import dataclass

DM = "dm"
PUBLIC = "public"


def capacity_kind(source: str) -> str:
    """Direct messages count against the DM limit; comments, mentions and reviews against the
    public one."""
    return DM if source == DM else PUBLIC


@dataclass(frozen=True)
class Load:
    """An agent's open or pending conversations."""

    dm: int = 0
    public: int = 0

    @property
    def total(self) -> int:
        return self.dm + self.public

    def plus_one(self, kind: str) -> "Load":
        return Load(dm=self.dm + (kind == DM), public=self.public + (kind == PUBLIC))


@dataclass(frozen=True)
class Capacity:
    total: int
    dm: int | None = None
    public: int | None = None

    def holds(self, load: Load) -> bool:
        """Whether the load is within every limit."""
        return (
            load.total <= self.total
            and (self.dm is None or load.dm <= self.dm)
            and (self.public is None or load.public <= self.public)
        )

    def has_room(self, load: Load, kind: str) -> bool:
        """Whether one more conversation of this kind stays within every limit."""
        return self.holds(load.plus_one(kind))
